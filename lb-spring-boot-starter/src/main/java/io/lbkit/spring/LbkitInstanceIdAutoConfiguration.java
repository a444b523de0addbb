package io.lbkit.spring;

import io.lbkit.servlet.backend.InstanceIdFilter;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingFilterBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;

/**
 * Names the instance that answered in a response header ({@code lbkit.instance-id.header},
 * default {@code X-Instance-ID}) on every response of a servlet web app, when
 * {@code lbkit.instance-id.enabled} is true. The filter runs at {@link #FILTER_ORDER}, ahead of
 * the session filter, so error responses carry the header too. An {@link InstanceIdFilter} bean or
 * registration of the app's own replaces it.
 */
@AutoConfiguration
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnBooleanProperty(name = "lbkit.instance-id.enabled")
@EnableConfigurationProperties(LbkitProperties.class)
public class LbkitInstanceIdAutoConfiguration {

    /** Order of the instance-id filter: just ahead of the session filter's default order. */
    public static final int FILTER_ORDER = LbkitProperties.Session.DEFAULT_FILTER_ORDER - 10;

    @Bean
    @ConditionalOnMissingFilterBean(InstanceIdFilter.class)
    public FilterRegistrationBean<InstanceIdFilter> lbkitInstanceIdFilterRegistration(LbkitProperties properties) {
        LbkitProperties.InstanceId p = properties.getInstanceId();
        FilterRegistrationBean<InstanceIdFilter> r =
                new FilterRegistrationBean<>(new InstanceIdFilter(p.getValue(), p.getHeader()));
        r.setName("lbkitInstanceIdFilter");
        r.setOrder(FILTER_ORDER);
        r.setAsyncSupported(true);
        r.addUrlPatterns("/*");
        return r;
    }
}
