package io.lbkit.servlet.testing;

import jakarta.servlet.ServletContainerInitializer;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A real servlet container (Jetty 12 ee10 or Tomcat 11) on 127.0.0.1 with an ephemeral port, set
 * up portably through {@link ServletContext} registration, so the same test code runs in both.
 * A fallback servlet mapped to {@code /} answers 404, so filters mapped to {@code /*} run for every
 * path in both containers (Tomcat runs no filter for a request no servlet maps).
 */
public abstract class TestContainer implements AutoCloseable {

    /** The name of the fallback servlet mapped to {@code /}. */
    public static final String FALLBACK_SERVLET = "lbkit-test-404";

    /** Which container. Tests iterate over both with {@code @EnumSource}. */
    public enum Kind { JETTY, TOMCAT }

    /** Registers the test's filters and servlets; called during context start-up. */
    @FunctionalInterface
    public interface Setup {
        void register(ServletContext context) throws ServletException;
    }

    public static TestContainer start(Kind kind, Setup setup) {
        try {
            return kind == Kind.JETTY ? new JettyContainer(setup) : new TomcatContainer(setup);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start " + kind, e);
        }
    }

    public abstract Kind kind();

    public abstract int port();

    public URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port() + pathAndQuery);
    }

    @Override
    public abstract void close();

    static ServletContainerInitializer initializer(Setup setup) {
        return (Set<Class<?>> classes, ServletContext ctx) -> {
            var fallback = ctx.addServlet(FALLBACK_SERVLET, new NotFoundServlet());
            fallback.addMapping("/");
            fallback.setAsyncSupported(true);
            setup.register(ctx);
        };
    }

    static final class NotFoundServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.sendError(404);
        }
    }

    static final class JettyContainer extends TestContainer {
        private final Server server;
        private final ServerConnector connector;

        JettyContainer(Setup setup) throws Exception {
            server = new Server();
            connector = new ServerConnector(server);
            connector.setHost("127.0.0.1");
            connector.setPort(0);
            server.addConnector(connector);
            ServletContextHandler context = new ServletContextHandler("/");
            context.addServletContainerInitializer(initializer(setup));
            server.setHandler(context);
            server.start();
        }

        @Override
        public Kind kind() {
            return Kind.JETTY;
        }

        @Override
        public int port() {
            return connector.getLocalPort();
        }

        /** The underlying server, for tests that tune it. */
        public Server server() {
            return server;
        }

        @Override
        public void close() {
            try {
                server.stop();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    static final class TomcatContainer extends TestContainer {
        private final Tomcat tomcat;
        private final Connector connector;
        private final Path base;

        TomcatContainer(Setup setup) throws IOException, LifecycleException {
            base = Files.createTempDirectory("lbkit-tomcat");
            tomcat = new Tomcat();
            tomcat.setBaseDir(base.toString());
            connector = new Connector();
            connector.setPort(0);
            connector.setProperty("address", "127.0.0.1");
            // Tomcat drops request trailer fields it is not told to allow (allowedTrailerHeaders)
            connector.setProperty("allowedTrailerHeaders", "x-client-t");
            tomcat.getService().addConnector(connector);
            tomcat.setConnector(connector);
            Path docBase = Files.createDirectories(base.resolve("docs"));
            Context ctx = tomcat.addContext("", docBase.toString());
            ctx.addServletContainerInitializer(initializer(setup), null);
            tomcat.start();
        }

        @Override
        public Kind kind() {
            return Kind.TOMCAT;
        }

        @Override
        public int port() {
            return connector.getLocalPort();
        }

        /** The underlying server, for tests that tune it. */
        public Tomcat tomcat() {
            return tomcat;
        }

        @Override
        public void close() {
            try {
                tomcat.stop();
                tomcat.destroy();
            } catch (LifecycleException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
