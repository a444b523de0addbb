package io.lbkit.core.limit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

class IpAddressesTest {

    /** For valid literals only, so no lookup happens here either. */
    private static byte[] jdk(String literal) throws UnknownHostException {
        byte[] b = InetAddress.getByName(literal).getAddress();
        if (literal.contains(":") && b.length == 4) {
            // the JDK folds IPv4-mapped IPv6 to IPv4; nginx's ip_hash keeps all 16 bytes
            byte[] v6 = new byte[16];
            v6[10] = (byte) 0xff;
            v6[11] = (byte) 0xff;
            System.arraycopy(b, 0, v6, 12, 4);
            return v6;
        }
        return b;
    }

    @Test
    void validLiterals() throws UnknownHostException {
        for (String s : new String[] {"0.0.0.0", "1.2.3.4", "255.255.255.255", "10.0.0.1", "::", "::1", "1::",
            "2001:db8::1", "2001:db8:0:0:0:0:2:1", "fe80::1:2:3:4", "::ffff:1.2.3.4", "64:ff9b::192.0.2.33",
            "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "1::8", "ABCD:ef01::", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8"}) {
            assertArrayEquals(jdk(s), IpAddresses.parse(s), s);
        }
    }

    @Test
    void rejectsEverythingElse() {
        for (String s : new String[] {"", "localhost", "example.com", "1.2.3", "1.2.3.4.5", "256.0.0.1",
            "1.2.3.1234", "1..2.3", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "::1::", "1:::2", ":1", "1:", "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7", "12345::", "::g", "1:2:3:4:5:6:7:8::", "fe80::1%eth0", "[::1]", "::1.2.3",
            "1:2:3:4:5:6:7:1.2.3.4", "\u0661.2.3.4", "1.2.3.4/24"}) {
            assertNull(IpAddresses.parse(s), s);
        }
    }

    @Test
    void peersAsServersReportThem() throws UnknownHostException {
        assertArrayEquals(jdk("::1"), IpAddresses.parsePeer("[::1]"));
        assertArrayEquals(jdk("fe80::1"), IpAddresses.parsePeer("fe80::1%eth0"));
        assertArrayEquals(jdk("127.0.0.1"), IpAddresses.parsePeer("127.0.0.1"));
        assertNull(IpAddresses.parsePeer("localhost"));
        assertNull(IpAddresses.parsePeer(null));
        assertNull(IpAddresses.parsePeer("1.2.3.4%eth0"));
        org.junit.jupiter.api.Assertions.assertEquals("1.2.3.4", IpAddresses.peerAddress("::ffff:1.2.3.4").getHostAddress());
        org.junit.jupiter.api.Assertions.assertEquals("0:0:0:0:0:0:0:1", IpAddresses.peerAddress("[::1]").getHostAddress());
    }
}
