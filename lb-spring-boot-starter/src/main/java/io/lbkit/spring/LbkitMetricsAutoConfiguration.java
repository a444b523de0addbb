package io.lbkit.spring;

import io.lbkit.session.MeteredSessionStore;
import io.lbkit.session.SessionStore;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;

/**
 * lbkit's meters on the app's {@link MeterRegistry}, when the app has Micrometer: the
 * auto-configured session store ({@code lbkitSessionStore}) is wrapped in a
 * {@link MeteredSessionStore}, so {@value MeteredSessionStore#CALLS} counts and times every call
 * by operation and outcome (Actuator shows it at {@code /actuator/metrics}, and at
 * {@code /actuator/prometheus} when the app has the Prometheus registry). A store the app defines
 * itself is left as it is (wrap it with {@code MeteredSessionStore.of}). Off with
 * {@code lbkit.session.metrics.enabled=false}.
 */
@AutoConfiguration(after = LbkitSessionAutoConfiguration.class)
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBooleanProperty(name = "lbkit.session.metrics.enabled", matchIfMissing = true)
public class LbkitMetricsAutoConfiguration {

    static final String METER_REGISTRY = "io.micrometer.core.instrument.MeterRegistry";
    private static final String STORE_BEAN = "lbkitSessionStore";

    /** Wraps the auto-configured store once it is built, if the app has a registry. */
    @Bean
    static BeanPostProcessor lbkitSessionStoreMeters(ObjectProvider<MeterRegistry> registry) {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessAfterInitialization(Object bean, String name) {
                if (STORE_BEAN.equals(name) && bean instanceof SessionStore s && !(bean instanceof MeteredSessionStore)) {
                    MeterRegistry r = registry.getIfAvailable();
                    return r == null ? bean : MeteredSessionStore.of(s, r);
                }
                return bean;
            }
        };
    }

    /** The store under the meters (loaded only when Micrometer is present). */
    static SessionStore unmetered(SessionStore store) {
        return store instanceof MeteredSessionStore m ? m.delegate() : store;
    }
}
