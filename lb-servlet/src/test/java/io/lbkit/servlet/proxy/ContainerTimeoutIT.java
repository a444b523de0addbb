package io.lbkit.servlet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.contract.Outcomes;
import io.lbkit.proxy.contract.ProxyFixture;
import io.lbkit.proxy.contract.RawHttp;
import io.lbkit.proxy.contract.TestBackend;
import io.lbkit.servlet.testing.TestContainer;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What only a servlet container has: its own connector timeouts, answered as the proxy's. */
class ContainerTimeoutIT {

    static TestBackend a;

    @BeforeAll
    static void backends() throws Exception {
        a = new TestBackend("a");
    }

    @AfterAll
    static void stop() {
        a.close();
    }

    static Map<String, List<String>> record(Upstream up) {
        return Outcomes.record(up);
    }

    /**
     * The container's own read timeout firing first (Jetty's connector idle timeout, Tomcat's
     * connectionTimeout; here 1.5 s, under the default clientBodyTimeout) is answered with 408 too.
     */
    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void aContainerReadTimeoutOnTheBodyIsA408(TestContainer.Kind kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).build();
        Map<String, List<String>> seen = record(up);
        try (ServletEngine.Running p = new ServletEngine.Running(kind,
                ProxyConfig.builder().route(Route.builder("all", up).build()).build())) {
            java.lang.reflect.Field f = p.container.getClass().getDeclaredField("connector");
            f.setAccessible(true);
            Object connector = f.get(p.container);
            if (kind == TestContainer.Kind.JETTY) {
                ((org.eclipse.jetty.server.ServerConnector) connector).setIdleTimeout(1500);
            } else {
                ((org.apache.catalina.connector.Connector) connector).setProperty("connectionTimeout", "1500");
            }
            String raw;
            try {
                raw = RawHttp.sendPartOfBodyThenRead(p.port(), "/upload", 100, 10);
            } catch (IOException e) {
                raw = e.toString();
            }
            assertTrue(raw.startsWith("HTTP/1.1 408"), "[" + raw + "] outcomes " + seen);
            assertEquals(List.of("CANCELLED"), seen.get(ProxyFixture.endpoint(a).id()), "outcomes " + seen);
        }
    }
}
