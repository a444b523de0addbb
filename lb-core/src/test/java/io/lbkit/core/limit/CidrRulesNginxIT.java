package io.lbkit.core.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.testing.NginxFixture;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link CidrRules} against nginx's {@code allow}/{@code deny} for the same rules and the same
 * client addresses: real connections from 127.0.0.x and 127.0.1.x (every 127/8 address is the
 * loopback on Linux), one location per rule set; every verdict (200 or 403) must be nginx's. The
 * locations answer with {@code stub_status}, a content handler: a {@code return} would answer in
 * the rewrite phase, before nginx checks access at all.
 */
class CidrRulesNginxIT {

    private static final String[] RULES = {
        "allow 127.0.0.2; deny 127.0.0.0/24;",
        "deny 127.0.0.3; allow 127.0.0.0/29; deny all;",
        "allow 127.0.1.0/24; deny all;",
        "deny 127.0.0.1;",
        "allow 127.0.0.0/30; allow 127.0.0.8; deny 127.0.0.0/16;",
        "allow all;",
        "deny all;",
    };

    private static final String[] CLIENTS = {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.7", "127.0.0.8",
        "127.0.1.9", "127.1.2.3"};

    /** The status of a GET from {@code client} (a loopback address the socket binds to). */
    private static int status(String client, int port, String path) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(client, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            String line = new String(in.readNBytes(12), StandardCharsets.ISO_8859_1);
            return Integer.parseInt(line.substring(9, 12));
        }
    }

    @Test
    void everyClientGetsNginxsVerdict() throws Exception {
        StringBuilder conf = new StringBuilder("server {\n    listen 127.0.0.1:{{port}};\n");
        for (int i = 0; i < RULES.length; i++) {
            conf.append("    location = /r").append(i).append(" { ").append(RULES[i]).append(" stub_status; }\n");
        }
        conf.append("}\n");
        List<String> differ = new ArrayList<>();
        int checked = 0;
        try (NginxFixture nginx = NginxFixture.start(conf.toString())) {
            for (int i = 0; i < RULES.length; i++) {
                CidrRules rules = CidrRules.parse(RULES[i]);
                for (String client : CLIENTS) {
                    int theirs = status(client, nginx.port(), "/r" + i);
                    int ours = rules.isAllowed(InetAddress.getByName(client)) ? 200 : CidrRules.DENY_STATUS;
                    if (theirs != ours) {
                        differ.add(RULES[i] + " from " + client + ": nginx " + theirs + ", lbkit " + ours);
                    }
                    checked++;
                }
            }
        }
        assertEquals(List.of(), differ);
        assertEquals(RULES.length * CLIENTS.length, checked);
    }
}
