package io.lbkit.servlet.proxy;

import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.SessionApi;
import io.lbkit.proxy.contract.ProxyEngine;
import io.lbkit.servlet.backend.SessionApiServlet;
import io.lbkit.servlet.testing.TestContainer;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.AbstractConnectionPool;
import org.eclipse.jetty.client.Destination;

/**
 * The servlet engine for the contract suite: {@link ProxyFilter} in a real container. Two
 * engines, {@code jetty} and {@code tomcat}, listed in
 * {@code META-INF/services/io.lbkit.proxy.contract.ProxyEngine}.
 */
public abstract class ServletEngine implements ProxyEngine {

    private final TestContainer.Kind kind;

    ServletEngine(TestContainer.Kind kind) {
        this.kind = kind;
    }

    /** {@link ProxyFilter} in Jetty 12 (ee10). */
    public static final class Jetty extends ServletEngine {
        public Jetty() {
            super(TestContainer.Kind.JETTY);
        }
    }

    /** {@link ProxyFilter} in Tomcat 11. */
    public static final class Tomcat extends ServletEngine {
        public Tomcat() {
            super(TestContainer.Kind.TOMCAT);
        }
    }

    /** The engine of a container kind. */
    public static ServletEngine of(TestContainer.Kind kind) {
        return kind == TestContainer.Kind.JETTY ? new Jetty() : new Tomcat();
    }

    @Override
    public String name() {
        return kind == TestContainer.Kind.JETTY ? "jetty" : "tomcat";
    }

    @Override
    public String toString() {
        return name();
    }

    @Override
    public Running start(ProxyConfig config) {
        return new Running(kind, config);
    }

    /** Each API as a {@link SessionApiServlet} mapped to its path; the filter runs only where no servlet is mapped, as in serve. */
    @Override
    public Running start(ProxyConfig config, Map<String, SessionApi> sessionApis) {
        return new Running(kind, config, sessionApis);
    }

    /** A filter in a started container. */
    public static final class Running implements RunningProxy {
        final ProxyFilter filter;
        final TestContainer container;

        Running(TestContainer.Kind kind, ProxyConfig config) {
            this(kind, config, Map.of());
        }

        Running(TestContainer.Kind kind, ProxyConfig config, Map<String, SessionApi> sessionApis) {
            this.filter = new ProxyFilter(config);
            this.container = TestContainer.start(kind, ctx -> {
                FilterRegistration.Dynamic reg = ctx.addFilter("lbkit-proxy", filter);
                reg.setAsyncSupported(true);
                if (sessionApis.isEmpty()) {
                    reg.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
                } else {
                    reg.addMappingForServletNames(EnumSet.of(DispatcherType.REQUEST), false, TestContainer.FALLBACK_SERVLET);
                }
                int n = 0;
                for (Map.Entry<String, SessionApi> api : sessionApis.entrySet()) {
                    var servlet = ctx.addServlet("lbkit-session-api-" + n++, SessionApiServlet.of(api.getValue()));
                    servlet.addMapping(api.getKey());
                    servlet.setAsyncSupported(true);
                }
            });
        }

        @Override
        public int port() {
            return container.port();
        }

        @Override
        public boolean awaitIdleBackendConnection(long millis) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            while (System.nanoTime() < deadline) {
                for (Destination d : filter.backendClient().getDestinations()) {
                    if (d.getConnectionPool() instanceof AbstractConnectionPool pool && pool.getIdleConnectionCount() > 0) {
                        return true;
                    }
                }
                Thread.sleep(5);
            }
            return false;
        }

        @Override
        public void close() {
            container.close();
        }
    }
}
