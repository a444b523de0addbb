package io.lbkit.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sticky cookie values: one accepted spelling per endpoint. */
class StickyCodecTest {

    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private static final byte[] KEY = "fedcba9876543210fedcba9876543210".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private final StickyCodec codec = new StickyCodec(StickyCookie.builder(KEY).build(),
            Upstream.builder("sticky").endpoint(Endpoint.parse("a:1")).endpoint(Endpoint.parse("b:1")).build());

    @Test
    void theIssuedValueDecodes() {
        String a = codec.encode("a:1");
        assertEquals(27, a.length());
        assertEquals("a:1", codec.decode(a));
        assertEquals("b:1", codec.decode(codec.encode("b:1")));
    }

    /**
     * 20 bytes take 160 of the 162 bits of 27 base64url characters: the last character's two low
     * bits are unused, so three other last characters decode to the very same bytes.
     */
    @Test
    void theOtherSpellingsOfTheLastCharacterAreRefused() {
        String genuine = codec.encode("a:1");
        int last = ALPHABET.indexOf(genuine.charAt(26));
        assertEquals(0, last & 3, "the encoder leaves the unused bits zero");
        byte[] bytes = Base64.getUrlDecoder().decode(genuine);
        for (int low = 1; low < 4; low++) {
            String alternate = genuine.substring(0, 26) + ALPHABET.charAt(last | low);
            assertArrayEquals(bytes, Base64.getUrlDecoder().decode(alternate), "the JDK decoder accepts " + alternate);
            assertNull(codec.decode(alternate), alternate);
        }
    }

    @Test
    void paddingQuotesAndOtherAlphabetsAreRefused() {
        String genuine = codec.encode("a:1");
        for (String v : new String[] {genuine + "=", genuine + "==", "\"" + genuine + "\"", genuine + " ", " " + genuine,
                genuine.substring(0, 26), genuine.substring(0, 26) + "=", genuine.replace('-', '+').replace('_', '/')}) {
            if (!v.equals(genuine)) {
                assertNull(codec.decode(v), v);
            }
        }
    }

    /** Every value one character away from a genuine one (padding and the standard alphabet included). */
    @Test
    void everySingleCharacterChangeIsRefused() {
        String genuine = codec.encode("a:1");
        List<String> accepted = new ArrayList<>();
        String characters = ALPHABET + "=+/. ";
        for (int i = 0; i < genuine.length(); i++) {
            for (char c : characters.toCharArray()) {
                String v = genuine.substring(0, i) + c + genuine.substring(i + 1);
                if (!v.equals(genuine) && codec.decode(v) != null) {
                    accepted.add(v);
                }
            }
        }
        assertEquals(List.of(), accepted);
    }
}
