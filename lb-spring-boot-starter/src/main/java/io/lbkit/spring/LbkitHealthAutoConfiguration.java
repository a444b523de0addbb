package io.lbkit.spring;

import io.lbkit.session.SessionStore;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Actuator's view of lbkit, when the app has Actuator (Spring Boot's {@code spring-boot-health}) on
 * its class path: the session store's health as the {@code lbkitSession} component of
 * {@code /actuator/health}. Off with {@code management.health.lbkit-session.enabled=false}; a bean
 * named {@code lbkitSessionHealthIndicator} of the app's own replaces it.
 */
@AutoConfiguration(after = LbkitSessionAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@EnableConfigurationProperties(LbkitProperties.class)
public class LbkitHealthAutoConfiguration {

    /** The session store's health; Redis is pinged within {@code lbkit.session.redis.command-timeout}. */
    @Bean
    @ConditionalOnBean(SessionStore.class)
    @ConditionalOnEnabledHealthIndicator("lbkit-session")
    @ConditionalOnMissingBean(name = "lbkitSessionHealthIndicator")
    public SessionStoreHealthIndicator lbkitSessionHealthIndicator(SessionStore store, LbkitProperties properties) {
        return new SessionStoreHealthIndicator(store, properties.getSession().getRedis().getCommandTimeout());
    }
}
