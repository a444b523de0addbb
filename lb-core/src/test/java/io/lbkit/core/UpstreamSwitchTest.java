package io.lbkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class UpstreamSwitchTest {

    @Test
    void switchesAllNewPicksAndOldSelectionsCompleteAgainstTheirUpstream() {
        Upstream blue = Upstream.builder("blue").endpoint(Endpoint.parse("10.0.0.1:80")).build();
        Upstream green = Upstream.builder("green").endpoint(Endpoint.parse("10.0.1.1:80")).build();
        UpstreamSwitch sw = UpstreamSwitch.of(blue, green);
        PickRequest req = PickRequest.create();
        Selection old = sw.pick(req);
        assertEquals("10.0.0.1:80", old.endpoint().id());
        sw.switchTo("green");
        for (int i = 0; i < 10; i++) {
            Selection s = sw.pick(req.reset());
            assertEquals("10.0.1.1:80", s.endpoint().id());
            s.complete(200, 0);
        }
        assertEquals(1, blue.status("10.0.0.1:80").orElseThrow().inFlight());
        old.complete(200, 0);
        assertEquals(0, blue.status("10.0.0.1:80").orElseThrow().inFlight());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sw.switchTo("red"));
        assertTrue(e.getMessage().contains("'red'"), e.getMessage());
    }

    @Test
    void rejectsDuplicateNames() {
        Upstream a = Upstream.builder("a").endpoint(Endpoint.parse("10.0.0.1:80")).build();
        Upstream a2 = Upstream.builder("a").endpoint(Endpoint.parse("10.0.0.2:80")).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UpstreamSwitch.of(a, a2));
        assertTrue(e.getMessage().contains("'a'"), e.getMessage());
    }
}
