package io.lbkit.spring;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;

/**
 * An app that sets {@code lbkit.upstreams.*} without {@code io.lbkit:lb-config} on its class path
 * (the proxy side's reader, an optional dependency of the starter so that a backend-only app does
 * not carry it) fails start-up saying which dependency to add, rather than ignoring the properties.
 */
@AutoConfiguration
@ConditionalOnMissingClass(LbkitProxyAutoConfiguration.LB_CONFIG)
@Conditional(LbkitProxyAutoConfiguration.OnUpstreams.class)
public class LbkitProxyWithoutConfigAutoConfiguration {

    /** Never made: start-up fails naming the property and the dependency. */
    @Bean
    public Object lbkitProxyNeedsLbConfig() {
        throw new LbkitPropertyException("lbkit.upstreams", "configures the proxy side, which needs "
                + "io.lbkit:lb-config on the app's class path: add that dependency (the starter leaves it out "
                + "for apps that are only backends)", null);
    }
}
