package io.lbkit.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.testing.NginxFixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link ValueMap} against nginx's {@code map} for the same table (seed 004's API-key tiers plus
 * regular expressions of both kinds and an empty-string entry): every key, in several cases, gets
 * nginx's value; a request without the header too.
 */
class MapNginxIT {

    @Test
    void everyKeyGetsNginxsValue() {
        String[][] table = {
            {"premium-key-123", "premium"}, {"business-key-456", "business"}, {"Mixed-Case-Key", "mixed"},
            {"~^biz-[0-9]+$", "biz"}, {"~*^ENT-", "enterprise"}, {"~key", "haskey"}, {"", "empty"},
        };
        ValueMap.Builder b = ValueMap.builder(RequestValue.header("X-Api-Key")).defaultValue("free");
        StringBuilder conf = new StringBuilder("map $http_x_api_key $tier {\n    default free;\n");
        for (String[] e : table) {
            b.entry(e[0], e[1]);
            conf.append("    \"").append(e[0]).append("\" ").append(e[1]).append(";\n");
        }
        conf.append("}\nserver {\n    listen 127.0.0.1:{{port}};\n    location / { return 200 \"$tier\"; }\n}\n");
        ValueMap m = b.build();
        List<String> keys = new ArrayList<>(List.of("premium-key-123", "PREMIUM-KEY-123", "Premium-Key-123",
                "business-key-456", "mixed-case-key", "MIXED-CASE-KEY", "biz-1", "biz-12x", "BIZ-1", "ent-a",
                "ENT-b", "xent-", "monkey", "KEY", "free", "", "premium-key-1234"));
        Random rnd = new Random(144);
        String alphabet = "abkeyzKEYBIZent-0123456789";
        for (int i = 0; i < 300; i++) {
            StringBuilder k = new StringBuilder();
            for (int n = rnd.nextInt(8); n >= 0; n--) {
                k.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
            keys.add(k.toString());
        }
        try (NginxFixture nginx = NginxFixture.start(conf.toString())) {
            for (String k : keys) {
                assertEquals(nginx.get("/", Map.of("X-Api-Key", k)).bodyText(), m.lookup(k), "key '" + k + "'");
            }
            assertEquals(nginx.get("/", Map.of()).bodyText(), m.lookup(null), "no header");
        }
    }
}
