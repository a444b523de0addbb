package io.lbkit.spring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lbkit.config.ConfigException;
import io.lbkit.config.ConfigTree;
import io.lbkit.config.ConfiguredProxy;
import io.lbkit.config.ServeConfig;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.ProxyMeters;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.servlet.proxy.ProxyFilter;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.SessionStore;
import jakarta.servlet.DispatcherType;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Makes a servlet web app a proxy tier from {@code lbkit.upstreams} and {@code lbkit.routes}: the
 * keys of {@code serve}'s file under {@code lbkit.} ({@code docs/configuration.md}), read by
 * lb-config's reader, so a property has the file key's name and meaning. It builds the upstreams,
 * starts their health monitors and active checks with the context (and stops them with it), and
 * registers lb-servlet's {@link ProxyFilter}, async-supported, for {@code /*} at
 * {@code lbkit.proxy-filter.order}; requests no route matches go on to the app.
 *
 * <p>Applies when a {@code lbkit.upstreams.*} property exists and {@code io.lbkit:lb-config} is on
 * the class path (without it, such a property fails start-up saying so:
 * {@link LbkitProxyWithoutConfigAutoConfiguration}). An invalid value fails start-up
 * with the property's name ({@code lbkit.upstreams.api.endpoints[0]: ...}). A
 * {@link ConfiguredProxy} or {@link ProxyFilter} bean of the app's replaces the auto-configured
 * one, and a bean named {@code lbkitProxyFilterRegistration} replaces the registration.
 */
@AutoConfiguration(after = LbkitSessionAutoConfiguration.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass(name = LbkitProxyAutoConfiguration.LB_CONFIG)
@Conditional(LbkitProxyAutoConfiguration.OnUpstreams.class)
@EnableConfigurationProperties(LbkitProperties.class)
public class LbkitProxyAutoConfiguration implements DisposableBean {

    /** A class of lb-config, the module the proxy side needs (an optional dependency of the starter). */
    static final String LB_CONFIG = "io.lbkit.config.ConfigTree";

    /** The first keys under {@code lbkit.} that are the starter's own properties, not the file's. */
    static final Set<String> STARTER_KEYS = Set.of("session", "instance-id", "proxy-filter");

    /** Keys of the file about {@code serve}'s own server and process; a Spring Boot app has its own. */
    private static final Set<String> SERVE_ONLY = Set.of("engine", "listen", "admin", "shutdownTimeout", "accessLog",
            "logFormats", "requestId", "statusPath");
    private static final Set<String> SERVE_ONLY_PROXY = Set.of("threads", "workers", "clientHeaderTimeout",
            "clientKeepaliveTimeout", "keepaliveRequests");
    private static final Set<String> SESSION_STORE_KEYS = Set.of("store", "idleTimeout", "absoluteTimeout", "api");

    private volatile ExecutorService sessionExecutor;

    /**
     * The upstreams, their health checks and the routes, from the {@code lbkit.*} properties;
     * started with the context and closed with it.
     */
    @Bean(initMethod = "start", destroyMethod = "close")
    @ConditionalOnMissingBean
    public ConfiguredProxy lbkitConfiguredProxy(Environment env) {
        return read(env);
    }

    /** The proxy filter over the configured routes, forwarding sessions of the app's store when {@code lbkit.sessions} says so. */
    @Bean
    @ConditionalOnMissingBean(value = ProxyFilter.class, parameterizedContainer = FilterRegistrationBean.class)
    public ProxyFilter lbkitProxyFilter(ConfiguredProxy proxy, ObjectProvider<SessionStore> stores,
                                        ObjectProvider<ProxyMeters> meters) {
        ProxyConfig.Builder pc = proxy.proxyConfig();
        ProxyMeters pm = meters.getIfAvailable();
        if (pm != null) {
            pc.meters(pm); // the app's registry (LbkitProxyMetricsAutoConfiguration)
            for (String name : proxy.upstreams().keySet()) {
                if (proxy.monitor(name) != null) {
                    pm.watch(proxy.monitor(name)); // health transitions and ejections
                }
            }
        }
        ServeConfig.SessionSpec ss = proxy.config().sessions();
        if (ss != null && ss.forward()) {
            SessionStore store = stores.getIfAvailable();
            if (store == null) {
                throw new LbkitPropertyException("lbkit.sessions.forward", "forwarding sessions needs the app's "
                        + "session store (lbkit.session.enabled and lbkit.session.store), and there is none", null);
            }
            SessionForwarding.Builder fb = SessionForwarding.builder(store).cookieName(ss.cookie());
            SessionStore inner = store instanceof io.lbkit.session.MeteredSessionStore m ? m.delegate() : store;
            if (!(inner instanceof InMemorySessionStore)) {
                // a networked store: its calls run off the container's threads
                sessionExecutor = Executors.newFixedThreadPool(32, r -> {
                    Thread t = new Thread(r, "lbkit-session-forwarding");
                    t.setDaemon(true);
                    return t;
                });
                fb.executor(sessionExecutor);
            }
            pc.sessionForwarding(fb.build());
        }
        return new ProxyFilter(pc.build());
    }

    /**
     * Registers the proxy filter for every path, async-supported, for {@code REQUEST} dispatches,
     * at {@code lbkit.proxy-filter.order}.
     */
    @Bean
    @ConditionalOnBean(ProxyFilter.class)
    @ConditionalOnMissingBean(name = "lbkitProxyFilterRegistration")
    public FilterRegistrationBean<ProxyFilter> lbkitProxyFilterRegistration(ProxyFilter filter,
                                                                            LbkitProperties properties) {
        FilterRegistrationBean<ProxyFilter> r = new FilterRegistrationBean<>(filter);
        r.setName("lbkitProxyFilter");
        r.setOrder(properties.getProxyFilter().getOrder());
        r.setAsyncSupported(true);
        r.setDispatcherTypes(EnumSet.of(DispatcherType.REQUEST));
        r.addUrlPatterns("/*");
        return r;
    }

    @Override
    public void destroy() {
        ExecutorService e = sessionExecutor;
        if (e != null) {
            e.shutdownNow();
        }
    }

    /**
     * Reads the {@code lbkit.*} properties with lb-config's reader.
     *
     * @throws LbkitPropertyException naming the property when a value is invalid
     */
    static ConfiguredProxy read(Environment env) {
        ObjectNode tree = PropertyTree.read(env, STARTER_KEYS);
        for (Iterator<String> it = tree.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (matches(SERVE_ONLY, k)) {
                throw new LbkitPropertyException("lbkit." + k, "is a setting of lb-server's serve; a Spring Boot "
                        + "app's server and process are Spring Boot's (server.*, logging.*, management.*)", null);
            }
        }
        refuse(tree, "proxy", SERVE_ONLY_PROXY, "is a client connection setting of lb-server's serve; the app's "
                + "server (server.tomcat.*, server.jetty.*) has its own");
        refuse(tree, "sessions", SESSION_STORE_KEYS, "the proxy forwards the sessions of the app's store: set it with "
                + "lbkit.session.* (store, idle-timeout, absolute-timeout, api)");
        if (tree.properties().stream().noneMatch(e -> PropertyTree.uniform(e.getKey()).equals("routes"))) {
            throw new LbkitPropertyException("lbkit.routes", "is required in a Spring Boot app (a route for / would "
                    + "take every path away from the app); e.g. lbkit.routes[0].match.path-prefix=/api/ and "
                    + "lbkit.routes[0].upstream=NAME", null);
        }
        try {
            ServeConfig config = ConfigTree.read(PropertyTree.PREFIX, tree);
            return ConfiguredProxy.of(config);
        } catch (ConfigException e) {
            throw new LbkitPropertyException(PropertyTree.PREFIX + (e.path().isEmpty() ? "" : "." + e.path()),
                    e.problem(), e);
        }
    }

    private static void refuse(ObjectNode tree, String section, Set<String> keys, String why) {
        for (var e : tree.properties()) {
            if (!PropertyTree.uniform(e.getKey()).equals(section)) {
                continue;
            }
            JsonNode n = e.getValue();
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (matches(keys, k)) {
                    throw new LbkitPropertyException("lbkit." + e.getKey() + "." + k, why, null);
                }
            }
        }
    }

    private static boolean matches(Set<String> keys, String key) {
        String u = PropertyTree.uniform(key);
        return keys.stream().anyMatch(k -> PropertyTree.uniform(k).equals(u));
    }

    /** Some property source has a {@code lbkit.upstreams.*} property. */
    static final class OnUpstreams extends SpringBootCondition {
        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            return PropertyTree.has(context.getEnvironment(), "upstreams")
                    ? ConditionOutcome.match("lbkit.upstreams is set")
                    : ConditionOutcome.noMatch("no lbkit.upstreams property");
        }
    }
}
