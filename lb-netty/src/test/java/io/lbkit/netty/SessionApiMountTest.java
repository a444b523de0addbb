package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.SessionApi;
import io.lbkit.session.InMemorySessionStore;
import org.junit.jupiter.api.Test;

/** Where a session API may be mounted on the event-loop engine. */
class SessionApiMountTest {

    private static final Upstream UP = Upstream.builder("up").endpoint(Endpoint.of("127.0.0.1", 9)).build();

    @Test
    void aMountPathIsAbsoluteAndTakenOnce() {
        ProxyConfig c = ProxyConfig.builder().route(Route.builder("r", UP).build()).build();
        try (InMemorySessionStore store = InMemorySessionStore.builder().build()) {
            SessionApi api = SessionApi.builder(store).build();
            NettyProxyServer.Builder b = NettyProxyServer.builder(c).sessionApi("/session", api);
            assertEquals("sessionApi: the path /session already serves a session API",
                    assertThrows(IllegalArgumentException.class, () -> b.sessionApi("/session", api)).getMessage());
            for (String bad : new String[] {"session", "/session?x=1", "/session/*", "/a b", ""}) {
                assertEquals("the session API's path must be an absolute path such as /session (no query, fragment,"
                        + " wildcard or space), got '" + bad + "'",
                        assertThrows(IllegalArgumentException.class, () -> b.sessionApi(bad, api)).getMessage());
            }
            b.sessionApi("/admin/session", api).build();
        }
    }
}
