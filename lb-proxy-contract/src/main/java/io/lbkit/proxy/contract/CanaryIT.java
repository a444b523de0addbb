package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.core.split.TrafficSplit;
import io.lbkit.proxy.Canary;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import java.net.http.HttpRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Canary routing on every engine: {@code X-Canary: 1} or cookie {@code canary=1} goes to the canary
 * upstream, the rest splits by percentage on a key exactly as lb-core's {@link TrafficSplit} (nginx
 * {@code split_clients}, compared with nginx in lb-core's SplitClientsNginxIT) places it.
 */
class CanaryIT {

    static TestBackend stable;
    static TestBackend canary;

    @BeforeAll
    static void start() throws Exception {
        stable = new TestBackend("stable1");
        canary = new TestBackend("canary1");
    }

    @AfterAll
    static void stop() throws Exception {
        stable.close();
        canary.close();
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void headerOrCookieForceTheCanaryAndTheRestSplitsByPercent(ProxyEngine kind) throws Exception {
        Canary c = Canary.builder(Upstream.builder("new").endpoint(ProxyFixture.endpoint(canary)).build())
                .when(RequestValue.header("X-Canary"), "1")
                .when(RequestValue.cookie("canary"), "1")
                .percent("30%", RequestValue.header("X-User"))
                .build();
        Route web = Route.builder("web", Upstream.builder("stable").endpoint(ProxyFixture.endpoint(stable)).build())
                .canary(c).build();
        TrafficSplit<String> nginx = TrafficSplit.<String>builder().part("30%", "canary1").rest("stable1").build();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(web).build())) {
            assertEquals("canary1", served(p, p.request("/id").header("X-Canary", "1").header("X-User", "u-stable")));
            assertEquals("canary1", served(p, p.request("/id").header("Cookie", "a=b; canary=1")));
            int toCanary = 0;
            for (int i = 0; i < 60; i++) {
                String user = "user-" + i;
                String want = nginx.selectOrElse(user, "stable1");
                assertEquals(want, served(p, p.request("/id").header("X-User", user).header("X-Canary", "0")), user);
                toCanary += want.equals("canary1") ? 1 : 0;
            }
            assertTrue(toCanary > 5 && toCanary < 35, "about 30% of 60: " + toCanary);
            assertEquals(nginx.selectOrElse("", "stable1"), served(p, p.request("/id")), "no key: the empty string's side");
        }
    }

    private static String served(ProxyFixture p, HttpRequest.Builder r) throws Exception {
        var resp = p.send(r.build());
        assertEquals(200, resp.statusCode(), resp.body());
        return resp.body();
    }
}
