package io.lbkit.spring;

import io.lbkit.proxy.ProxyMeters;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The proxy side's meters ({@link ProxyMeters}: requests by route, upstream, endpoint and status
 * class, upstream timings, retries, rejections, bytes, health transitions) on the app's
 * {@link MeterRegistry}, when the app has Micrometer and a registry (Actuator's, for
 * {@code /actuator/metrics} and {@code /actuator/prometheus}). A {@code ProxyMeters} bean of the
 * app's own replaces this one; without a registry there are none.
 */
@AutoConfiguration(before = LbkitProxyAutoConfiguration.class)
@ConditionalOnClass(MeterRegistry.class)
public class LbkitProxyMetricsAutoConfiguration {

    /** The proxy's meters on the app's registry, or none (a null bean) when it has no registry. */
    @Bean
    @ConditionalOnMissingBean
    public ProxyMeters lbkitProxyMeters(ObjectProvider<MeterRegistry> registry) {
        MeterRegistry r = registry.getIfAvailable();
        return r == null ? null : ProxyMeters.of(r);
    }
}
