package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TargetsTest {

    private static final Upstream UP = Upstream.builder("u")
            .endpoint(Endpoint.builder("a").host("127.0.0.1").port(1).metadata(Map.of("zone", "east")).build())
            .endpoint(Endpoint.builder("b").host("127.0.0.1").port(2).metadata(Map.of("zone", "west")).build())
            .build();

    @Test
    void aValueNamesAnEndpointById() {
        Route r = Route.builder("t", UP).target(RequestValue.header("X-Backend")).build();
        Targets.Choice c = Targets.choose(r, new TestRequest("GET", "/").header("X-Backend", " b "), "/", null);
        assertEquals(new Targets.Choice("b", 0, null), c);
        Targets.Choice none = Targets.choose(r, new TestRequest("GET", "/"), "/", null);
        assertNull(none.endpointId());
        assertEquals(400, none.status());
        Targets.Choice unknown = Targets.choose(r, new TestRequest("GET", "/").header("X-Backend", "z"), "/", null);
        assertNull(unknown.endpointId());
        assertEquals(404, unknown.status());
    }

    @Test
    void metadataAndFormTargets() {
        Route byZone = Route.builder("t", UP).target(RequestValue.query("zone"), "zone").build();
        assertEquals("b", Targets.choose(byZone, new TestRequest("GET", "/").query("zone=west"), "/?zone=west", null)
                .endpointId());
        assertEquals(404, Targets.choose(byZone, new TestRequest("GET", "/").query("zone=b"), "/?zone=b", null)
                .status(), "matched on metadata, not on ids");
        Route byParam = Route.builder("t", UP).target(RequestValue.param("backend")).build();
        assertEquals("a", Targets.choose(byParam, new TestRequest("POST", "/"), "/", "x=1&backend=%61").endpointId());
    }

    @Test
    void strictNeverLetsAnotherEndpointServe() {
        PickRequest pick = PickRequest.create();
        Selection s = UP.pick(pick);
        String other = s.endpoint().id().equals("a") ? "b" : "a";
        Selection refused = Targets.strict(s, other);
        assertFalse(refused.found());
        assertEquals(0, UP.status(s.endpoint().id()).orElseThrow().inFlight(), "the other pick was completed");
        Selection s2 = UP.pick(PickRequest.create().preferred("b"));
        Selection kept = Targets.strict(s2, "b");
        assertTrue(kept.found());
        assertEquals("b", kept.endpoint().id());
        kept.complete(io.lbkit.core.Outcome.RESPONSE, 200, 1);
    }
}
