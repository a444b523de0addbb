package io.lbkit.core.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.testing.NginxFixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link GeoTable} against nginx's {@code geo} for the same table: random nested IPv4 and IPv6
 * networks, addresses inside, at the edges of and outside them; every answer must be nginx's.
 */
class GeoNginxIT {

    @Test
    void everyAddressGetsNginxsValue() {
        Random rnd = new Random(1422);
        GeoTable.Builder b = GeoTable.builder().defaultValue("dflt");
        StringBuilder conf = new StringBuilder("geo $arg_ip $v {\n    default dflt;\n");
        List<String> probes = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            int prefix = 8 + rnd.nextInt(25);
            int a = ((10 + rnd.nextInt(3)) << 24 | rnd.nextInt(1 << 16) << 8) & (int) (0xffffffffL << (32 - prefix));
            String cidr = v4(a) + "/" + prefix;
            b.add(cidr, "v" + i);
            conf.append("    ").append(cidr).append(" v").append(i).append(";\n");
            long end = (a & 0xffffffffL) | (0xffffffffL >>> prefix);
            probes.add(v4(a));
            probes.add(v4((int) end));
            probes.add(v4((int) (end + 1)));
            probes.add(v4(a - 1));
            probes.add(v4(a + rnd.nextInt(1 << (32 - prefix))));
        }
        for (int i = 0; i < 60; i++) {
            int prefix = 16 + rnd.nextInt(49);
            String cidr = String.format("2001:db8:%x:%x::/%d", rnd.nextInt(4), rnd.nextInt(1 << 16), prefix);
            b.add(cidr, "w" + i);
            conf.append("    ").append(cidr).append(" w").append(i).append(";\n");
            probes.add(String.format("2001:db8:%x:%x::%x", rnd.nextInt(4), rnd.nextInt(1 << 16), rnd.nextInt(1 << 16)));
            probes.add(cidr.substring(0, cidr.indexOf('/')) + "1");
        }
        for (int i = 0; i < 100; i++) {
            probes.add(v4(rnd.nextInt()));
        }
        conf.append("}\nserver {\n    listen 127.0.0.1:{{port}};\n    location / { return 200 \"$v\"; }\n}\n");
        GeoTable g = b.build();
        try (NginxFixture nginx = NginxFixture.start(conf.toString())) {
            for (String ip : probes) {
                NginxFixture.Response r = nginx.get("/?ip=" + ip, Map.of());
                assertEquals(r.bodyText(), g.lookup(IpAddresses.parse(ip)), ip);
            }
        }
    }

    private static String v4(int a) {
        return ((a >>> 24) & 255) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }
}
