package io.lbkit.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ValueMapTest {

    /** The table of the nginx 1.22 check in the javadoc: map $http_x_k $v { Premium-Key P; ~^abc R1; ~*^ABD R2; "" EMPTY; default D; }. */
    private static final ValueMap CHECKED = ValueMap.builder(RequestValue.header("X-K"))
            .entry("Premium-Key", "P").entry("~^abc", "R1").entry("~*^ABD", "R2").entry("", "EMPTY").defaultValue("D")
            .build();

    @Test
    void answersAsNginx122DidForTheSameTable() {
        // observed with nginx 1.22.1: exact strings ignore case, ~ is case-sensitive, ~* is not,
        // a missing header is the empty string
        assertEquals("P", CHECKED.lookup("premium-key"));
        assertEquals("P", CHECKED.lookup("Premium-Key"));
        assertEquals("P", CHECKED.lookup("PREMIUM-KEY"));
        assertEquals("R1", CHECKED.lookup("abcx"));
        assertEquals("D", CHECKED.lookup("ABCX"));
        assertEquals("R2", CHECKED.lookup("abdx"));
        assertEquals("R2", CHECKED.lookup("ABDX"));
        assertEquals("EMPTY", CHECKED.lookup(""));
        assertEquals("EMPTY", CHECKED.lookup(null));
    }

    @Test
    void exactBeforeRegexRegexesInOrderUnanchoredDefaultEmpty() {
        ValueMap m = ValueMap.builder(RequestValue.header("X-K"))
                .entry("~key", "first").entry("~k", "second").entry("the-key", "exact").build();
        assertEquals("exact", m.lookup("THE-KEY"));
        assertEquals("first", m.lookup("a-key-b"), "the first regex in order, matched anywhere");
        assertEquals("second", m.lookup("kx"));
        assertEquals("", m.lookup("zzz"), "nginx's default is the empty string");
        assertEquals("lit", ValueMap.builder(RequestValue.header("X")).entry("\\~x", "lit").build().lookup("~x"));
    }

    @Test
    void seed004Tiers() {
        ValueMap tier = ValueMap.builder(RequestValue.header("X-Api-Key"))
                .entry("premium-key-123", "premium").entry("business-key-456", "business").defaultValue("free").build();
        assertEquals("premium", tier.lookup("premium-key-123"));
        assertEquals("business", tier.lookup("business-key-456"));
        assertEquals("free", tier.lookup("other"));
        assertEquals("free", tier.lookup(null));
        assertEquals(2, tier.size());
    }

    @Test
    void badRegexesAndBodySourcesAreRefused() {
        assertEquals("map entry '~(': bad regular expression: Unclosed group",
                assertThrows(IllegalArgumentException.class,
                        () -> ValueMap.builder(RequestValue.header("X")).entry("~(", "v")).getMessage());
        assertEquals("map source cannot read the request body, got form:f",
                assertThrows(IllegalArgumentException.class,
                        () -> ValueMap.builder(RequestValue.formField("f"))).getMessage());
    }
}
