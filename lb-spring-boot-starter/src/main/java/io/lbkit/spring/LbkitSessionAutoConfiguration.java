package io.lbkit.spring;

import io.lbkit.servlet.backend.SessionApiServlet;
import io.lbkit.servlet.backend.SessionFilter;
import io.lbkit.session.AttributeCodec;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.SessionStore;
import jakarta.servlet.DispatcherType;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.springframework.beans.factory.BeanClassLoaderAware;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.util.ClassUtils;

/**
 * Backs {@code request.getSession()} of a servlet web app with an lbkit {@link SessionStore}: the
 * store from {@code lbkit.session.store} ({@code memory} or a Redis URI), a {@link SessionFilter}
 * registered at {@code lbkit.session.filter-order} (by default before Spring Security's filter
 * chain, where Spring Session's filter runs), and the session API when
 * {@code lbkit.session.api.enabled} is true. Off with {@code lbkit.session.enabled=false}.
 *
 * <p>Each bean backs off when the app defines its own: a {@link SessionStore} bean replaces the
 * store, a {@link SessionFilter} bean the filter (it is still registered here at the order), a
 * {@link FilterRegistrationBean} of a {@link SessionFilter} the filter and its registration, and a
 * {@link ServletRegistrationBean} of a {@link SessionApiServlet} the session API.
 */
@AutoConfiguration
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnBooleanProperty(name = "lbkit.session.enabled", matchIfMissing = true)
@EnableConfigurationProperties(LbkitProperties.class)
public class LbkitSessionAutoConfiguration implements BeanClassLoaderAware {

    static final String REDIS_STORE_CLASS = "io.lbkit.session.redis.RedisSessionStore";

    private ClassLoader classLoader = LbkitSessionAutoConfiguration.class.getClassLoader();

    @Override
    public void setBeanClassLoader(ClassLoader classLoader) {
        this.classLoader = classLoader;
    }

    /**
     * The store: in memory, or Redis when {@code lbkit.session.store} is a redis:// URI or
     * {@code redis} (the app's own Redis settings, see {@link RedisStores#create}). Closed with the
     * context (a Redisson client of the app's stays the app's).
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public SessionStore lbkitSessionStore(LbkitProperties properties, org.springframework.core.env.Environment env,
                                          org.springframework.beans.factory.ListableBeanFactory beans) {
        LbkitProperties.Session p = properties.getSession();
        if (!p.isRedis()) {
            return InMemorySessionStore.builder().settings(p.settings()).build();
        }
        if (!ClassUtils.isPresent(REDIS_STORE_CLASS, classLoader)) {
            // not InvalidConfigurationPropertyValueException: its failure report prints the
            // property's value from the environment, and a Redis URI may hold a password
            throw new IllegalStateException("lbkit.session.store is " + (p.isAppRedis() ? "redis" : "a Redis URI ("
                    + masked(p.getStore()) + ")") + " but io.lbkit:lb-session-redis is not on the classpath: add it "
                    + "as a dependency, or set lbkit.session.store to memory");
        }
        try {
            return RedisStores.create(p, env, beans);
        } catch (RuntimeException e) {
            // a bad setting (IllegalArgumentException) or Redis unreachable (SessionStoreException)
            throw new IllegalStateException("lbkit.session.store (" + masked(p.getStore()) + "): "
                    + e.getMessage(), e);
        }
    }

    /** The session filter, from the {@code lbkit.session.*} and {@code lbkit.session.cookie.*} properties. */
    @Bean
    @ConditionalOnMissingBean(value = SessionFilter.class, parameterizedContainer = FilterRegistrationBean.class)
    public SessionFilter lbkitSessionFilter(SessionStore store, LbkitProperties properties) {
        LbkitProperties.Session p = properties.getSession();
        LbkitProperties.Cookie c = p.getCookie();
        SessionFilter.Builder b = SessionFilter.builder(store)
                .cookieName(c.getName())
                .cookiePath(c.getPath())
                .cookieDomain(c.getDomain())
                .cookieMaxAgeSeconds(c.getMaxAge() == null ? -1 : (int) c.getMaxAge().toSeconds())
                .sameSite(c.getSameSite())
                .secure(c.getSecure())
                .trustedProxies(p.getTrustedProxies().stream().map(String::strip).toArray(String[]::new))
                .sessionIdHeader(p.getSessionIdHeader() == null || p.getSessionIdHeader().isEmpty()
                        ? null : p.getSessionIdHeader())
                .saveMode(p.getSaveMode());
        if (!p.getAllowClasses().isEmpty()) {
            b.codec(AttributeCodec.builder().allow(allowClasses(p.getAllowClasses())).build());
        }
        return b.build();
    }

    /**
     * Registers the session filter for every path, async-supported, for {@code REQUEST}
     * dispatches (a forward, include, error or async dispatch of a request it handles reuses that
     * request's session state), at {@code lbkit.session.filter-order}.
     */
    @Bean
    @ConditionalOnBean(SessionFilter.class)
    @ConditionalOnMissingBean(name = "lbkitSessionFilterRegistration")
    public FilterRegistrationBean<SessionFilter> lbkitSessionFilterRegistration(SessionFilter filter,
                                                                                LbkitProperties properties) {
        FilterRegistrationBean<SessionFilter> r = new FilterRegistrationBean<>(filter);
        r.setName("lbkitSessionFilter");
        r.setOrder(properties.getSession().getFilterOrder());
        r.setAsyncSupported(true);
        r.setDispatcherTypes(EnumSet.of(DispatcherType.REQUEST));
        r.addUrlPatterns("/*");
        return r;
    }

    /** The session API at {@code lbkit.session.api.path}, when {@code lbkit.session.api.enabled} is true. */
    @Bean
    @ConditionalOnBooleanProperty(name = "lbkit.session.api.enabled")
    @ConditionalOnMissingBean(value = SessionApiServlet.class, parameterizedContainer = ServletRegistrationBean.class)
    public ServletRegistrationBean<SessionApiServlet> lbkitSessionApi(SessionStore store,
                                                                      LbkitProperties properties) {
        LbkitProperties.Api a = properties.getSession().getApi();
        SessionApiServlet.Builder b = SessionApiServlet.builder(store)
                .cookieName(properties.getSession().getCookie().getName());
        if (a.getToken() != null) {
            b.token(a.getToken());
        }
        if (!a.getAllow().isEmpty()) {
            b.allowFrom(a.getAllow().stream().map(String::strip).toArray(String[]::new));
        }
        ServletRegistrationBean<SessionApiServlet> r = new ServletRegistrationBean<>(b.build(), a.getPath());
        r.setName("lbkitSessionApi");
        r.setAsyncSupported(true);
        return r;
    }

    private Class<?>[] allowClasses(List<String> names) {
        ClassLoader cl = classLoader;
        List<Class<?>> out = new ArrayList<>(names.size());
        for (String n : names) {
            try {
                out.add(Class.forName(n.strip(), false, cl));
            } catch (ClassNotFoundException e) {
                throw new InvalidConfigurationPropertyValueException("lbkit.session.allow-classes", n,
                        "class not found");
            }
        }
        return out.toArray(Class<?>[]::new);
    }

    /** The URI without its user information (a password), for messages. */
    static String masked(String uri) {
        String s = uri == null ? "" : uri.strip();
        int scheme = s.indexOf("://");
        int at = s.indexOf('@');
        int slash = scheme < 0 ? -1 : s.indexOf('/', scheme + 3);
        if (scheme >= 0 && at > scheme && (slash < 0 || at < slash)) {
            return s.substring(0, scheme + 3) + "****" + s.substring(at);
        }
        return s;
    }
}
