package io.lbkit.proxy.contract;

import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.SessionApi;
import java.util.Map;

/**
 * An engine the contract suite runs against: the servlet filter in Jetty, in Tomcat, the event
 * loop. Each engine's build provides its implementations through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.lbkit.proxy.contract.ProxyEngine} in its test resources) and runs
 * this jar's {@code *IT} classes with Failsafe's {@code dependenciesToScan}.
 */
public interface ProxyEngine {

    /**
     * A short lower-case name ({@code jetty}, {@code tomcat}, {@code netty}). A test that expects
     * an engine to differ on purpose names it, and docs/proxy.md lists the difference.
     */
    String name();

    /** Starts a proxy with {@code config} on 127.0.0.1 and an ephemeral port. */
    RunningProxy start(ProxyConfig config);

    /**
     * Starts a proxy with {@code config} that also serves each session API at its exact path,
     * ahead of the routes (the servlet engine: {@code SessionApiServlet} mapped there; the event
     * loop: {@code NettyProxyServer.Builder.sessionApi}).
     *
     * @throws UnsupportedOperationException when this engine cannot serve the session API
     */
    default RunningProxy start(ProxyConfig config, Map<String, SessionApi> sessionApis) {
        if (sessionApis.isEmpty()) {
            return start(config);
        }
        throw new UnsupportedOperationException(name() + " does not serve the session API");
    }

    /** A started proxy. */
    interface RunningProxy extends AutoCloseable {

        /** The port it listens on (127.0.0.1). */
        int port();

        /**
         * Waits, at most {@code millis}, until a kept-alive backend connection is idle in the
         * proxy's pool; false when none became idle.
         */
        boolean awaitIdleBackendConnection(long millis) throws InterruptedException;

        @Override
        void close();
    }
}
