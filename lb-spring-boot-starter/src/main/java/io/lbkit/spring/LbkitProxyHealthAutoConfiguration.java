package io.lbkit.spring;

import io.lbkit.config.ConfiguredProxy;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Actuator's view of the proxy's upstreams, when the app has Actuator: the {@code lbkitUpstreams}
 * component of {@code /actuator/health}, with one {@link UpstreamHealthIndicator} per upstream
 * (named as in {@code lbkit.upstreams}). Off with
 * {@code management.health.lbkit-upstreams.enabled=false}; a bean named
 * {@code lbkitUpstreamsHealthContributor} of the app's own replaces it.
 */
@AutoConfiguration(after = LbkitProxyAutoConfiguration.class)
@ConditionalOnClass(value = HealthIndicator.class, name = LbkitProxyAutoConfiguration.LB_CONFIG)
public class LbkitProxyHealthAutoConfiguration {

    /** One health indicator per upstream. */
    @Bean
    @ConditionalOnBean(ConfiguredProxy.class)
    @ConditionalOnEnabledHealthIndicator("lbkit-upstreams")
    @ConditionalOnMissingBean(name = "lbkitUpstreamsHealthContributor")
    public CompositeHealthContributor lbkitUpstreamsHealthContributor(ConfiguredProxy proxy) {
        Map<String, HealthIndicator> byName = new LinkedHashMap<>();
        proxy.upstreams().forEach((name, upstream) ->
                byName.put(name, new UpstreamHealthIndicator(upstream, () -> proxy.monitor(name))));
        return CompositeHealthContributor.fromMap(byName);
    }
}
