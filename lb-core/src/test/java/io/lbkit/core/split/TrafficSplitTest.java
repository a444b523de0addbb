package io.lbkit.core.split;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TrafficSplitTest {

    private static int hash(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        return TrafficSplit.murmurHash2(b, 0, b.length);
    }

    @Test
    void murmurHash2KnownVectors() {
        // Computed with nginx's ngx_murmur_hash2 (src/core/ngx_murmurhash.c) compiled as C.
        assertEquals(0x00000000, hash(""));
        assertEquals(0x92685f5e, hash("a"));
        assertEquals(0x1aa14063, hash("ab"));
        assertEquals(0x13577c9b, hash("abc"));
        assertEquals(0x26873021, hash("abcd"));
        assertEquals(0x5f09a8de, hash("abcde"));
        assertEquals(0xe56129cb, hash("hello"));
        assertEquals(0x44a81419, hash("hello world"));
        assertEquals(0x212729d0, hash("The quick brown fox jumps over the lazy dog"));
        assertEquals(0x2a484746, hash("192.168.1.1"));
        assertEquals(0x5f59ecc5, TrafficSplit.murmurHash2("\u043a\u043b\u044e\u0447")); // "ключ", 8 bytes
        assertEquals(0xb75f71ce, TrafficSplit.murmurHash2(new byte[] {(byte) 0xff, (byte) 0xfe, (byte) 0x80, 0}, 0, 4));
    }

    @Test
    void murmurHash2HonoursOffsetAndLength() {
        byte[] b = "xxhello worldyy".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0x44a81419, TrafficSplit.murmurHash2(b, 2, 11));
        assertThrows(IndexOutOfBoundsException.class, () -> TrafficSplit.murmurHash2(b, 10, 10));
    }

    @Test
    void charSequenceHashEqualsHashOfUtf8Bytes() {
        Random rnd = new Random(7);
        String[] samples = {"", "a", "\u00e9", "\u20ac", "\ud83d\udd11", "ab\ud83d\udd11c", "\u00e9\u00e9\u00e9",
            "lone \ud800 high", "lone \udc00 low", "end high \ud800", "\udc00\ud800", "\u043a\u043b\u044e\u0447-42"};
        for (String s : samples) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            assertEquals(TrafficSplit.murmurHash2(b, 0, b.length), TrafficSplit.murmurHash2(s), s);
            assertEquals(TrafficSplit.murmurHash2(b, 0, b.length),
                    TrafficSplit.murmurHash2(new StringBuilder(s)), "StringBuilder " + s);
        }
        for (int i = 0; i < 2000; i++) {
            char[] c = new char[rnd.nextInt(24)];
            for (int j = 0; j < c.length; j++) {
                int kind = rnd.nextInt(4);
                c[j] = (char) (kind == 0 ? rnd.nextInt(0x80) : kind == 1 ? rnd.nextInt(0x800)
                        : kind == 2 ? rnd.nextInt(0x10000) : 0xd800 + rnd.nextInt(0x800));
            }
            String s = new String(c);
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            assertEquals(TrafficSplit.murmurHash2(b, 0, b.length), TrafficSplit.murmurHash2(s), s);
        }
    }

    @Test
    void cutPointsFollowNginxIntegerArithmetic() {
        TrafficSplit<String> s = TrafficSplit.<String>builder()
                .part("0.5%", "A").part("12.5%", "B").part("33.33%", "C").rest("D").build();
        // last += percent * 0xffffffff / 10000, each term truncated on its own
        assertArrayEquals(new long[] {21474836L, 558345747L, 1989858346L, 0L}, s.cutPoints());
        // truncating the cumulative 13% instead would give 558345748: nginx does not
        assertEquals(558345748L, 1300L * 0xffffffffL / 10000);
        assertEquals(0, s.indexForHash(0));
        assertEquals(0, s.indexForHash(21474835));
        assertEquals(1, s.indexForHash(21474836));
        assertEquals(1, s.indexForHash(558345746));
        assertEquals(2, s.indexForHash(558345747));
        assertEquals(2, s.indexForHash(1989858345));
        assertEquals(3, s.indexForHash(1989858346));
        assertEquals(3, s.indexForHash(0xffffffff)); // hashes compare unsigned
        assertEquals(3, s.indexForHash(Integer.MIN_VALUE));
    }

    @Test
    void hundredPercentWithoutRestLeavesTheTopHashesInNoPart() {
        TrafficSplit<String> halves = TrafficSplit.<String>builder().part("50%", "A").part("50%", "B").build();
        assertArrayEquals(new long[] {2147483647L, 4294967294L}, halves.cutPoints());
        assertEquals(1, halves.indexForHash(0xfffffffd));
        assertEquals(-1, halves.indexForHash(0xfffffffe));
        assertEquals(-1, halves.indexForHash(0xffffffff));
        TrafficSplit<String> all = TrafficSplit.<String>builder().part("100%", "A").build();
        assertEquals(0, all.indexForHash(0xfffffffe));
        assertEquals(-1, all.indexForHash(0xffffffff));
    }

    @Test
    void keysBeyondAPartialSplitFallIntoNoPart() {
        TrafficSplit<String> s = TrafficSplit.<String>builder().part("10%", "X").part("20.25%", "Y").build();
        int none = 0;
        int x = 0;
        int y = 0;
        for (int i = 0; i < 100_000; i++) {
            Optional<String> v = s.select("key-" + i);
            if (v.isEmpty()) {
                none++;
                assertEquals(-1, s.partIndex(("key-" + i).getBytes(StandardCharsets.UTF_8)));
                assertEquals("fallback", s.selectOrElse("key-" + i, "fallback"));
            } else if (v.get().equals("X")) {
                x++;
            } else {
                y++;
            }
        }
        assertTrue(Math.abs(x - 10_000) < 1_000, "X " + x);
        assertTrue(Math.abs(y - 20_250) < 1_500, "Y " + y);
        assertTrue(Math.abs(none - 69_750) < 2_000, "none " + none);
    }

    @Test
    void selectByBytesCharsAndIndexAgree() {
        TrafficSplit<Integer> s = TrafficSplit.<Integer>builder()
                .part("0.01%", 0).part("33.3%", 1).part("33.3%", 2).rest(3).build();
        for (int i = 0; i < 5000; i++) {
            String key = "user-" + i + "-\u00fc";
            byte[] b = key.getBytes(StandardCharsets.UTF_8);
            int idx = s.partIndex(b);
            assertEquals(Optional.of(idx), s.select(b));
            assertEquals(Optional.of(idx), s.select(key));
            assertEquals(idx, s.selectOrElse(key, -1));
            byte[] padded = new byte[b.length + 4];
            System.arraycopy(b, 0, padded, 2, b.length);
            assertEquals(Optional.of(idx), s.select(padded, 2, b.length));
        }
        assertSame(s.select("a"), s.select("a")); // the Optionals are made at build time
    }

    @Test
    void emptyKeyHashesToZeroAndTakesTheFirstPart() {
        TrafficSplit<String> s = TrafficSplit.<String>builder().part("0.01%", "first").rest("rest").build();
        assertEquals(Optional.of("first"), s.select(""));
        assertEquals(Optional.of("first"), s.select(new byte[0]));
    }

    @Test
    void percentParsing() {
        assertEquals(1250, TrafficSplit.parsePercent("12.5%"));
        assertEquals(1, TrafficSplit.parsePercent("0.01%"));
        assertEquals(10000, TrafficSplit.parsePercent("100%"));
        assertEquals(10000, TrafficSplit.parsePercent("100.00%"));
        assertEquals(1200, TrafficSplit.parsePercent("12.%")); // ngx_atofp accepts a trailing dot
        assertEquals(50, TrafficSplit.parsePercent(".5%"));
        assertEquals(700, TrafficSplit.parsePercent("007%"));
        assertEquals(3333, TrafficSplit.parsePercent("33.33%"));
        assertMessage("bad percent '12.345%': at most 2 decimals are allowed", () -> TrafficSplit.parsePercent("12.345%"));
        assertMessage("bad percent '12.340%': at most 2 decimals are allowed", () -> TrafficSplit.parsePercent("12.340%"));
        assertMessage("bad percent '0%': percent must be > 0", () -> TrafficSplit.parsePercent("0%"));
        assertMessage("bad percent '0.00%': percent must be > 0", () -> TrafficSplit.parsePercent("0.00%"));
        assertMessage("bad percent '.%': percent must be > 0", () -> TrafficSplit.parsePercent(".%"));
        assertMessage("bad percent '100.01%': percent must be in 0.01%..100%", () -> TrafficSplit.parsePercent("100.01%"));
        assertMessage("bad percent '99999999999999%': percent must be in 0.01%..100%", () -> TrafficSplit.parsePercent("99999999999999%"));
        assertMessage("bad percent '12': expected a percentage like '12.5%'", () -> TrafficSplit.parsePercent("12"));
        assertMessage("bad percent '%': expected a percentage like '12.5%'", () -> TrafficSplit.parsePercent("%"));
        assertMessage("bad percent '1.2.3%': expected a percentage like '12.5%'", () -> TrafficSplit.parsePercent("1.2.3%"));
        assertMessage("bad percent '-5%': expected a percentage like '12.5%'", () -> TrafficSplit.parsePercent("-5%"));
        assertMessage("bad percent '1e2%': expected a percentage like '12.5%'", () -> TrafficSplit.parsePercent("1e2%"));
        assertMessage("bad percent ' 5%': expected a percentage like '12.5%'", () -> TrafficSplit.parsePercent(" 5%"));
    }

    @Test
    void builderValidation() {
        assertMessage("percent total must be <= 100%, got 100.01% at part '0.02%'",
                () -> TrafficSplit.<String>builder().part("99.99%", "a").part("0.02%", "b"));
        assertMessage("percent total must be <= 100%, got 112.50% at part '12.5%'",
                () -> TrafficSplit.<String>builder().part("50%", "a").part("50%", "b").part("12.5%", "c"));
        assertMessage("part '1%' comes after the rest part ('*'), which must be last",
                () -> TrafficSplit.<String>builder().part("50%", "a").rest("r").part("1%", "b"));
        assertMessage("rest part ('*') is already set; it must appear once, last",
                () -> TrafficSplit.<String>builder().rest("r").rest("s"));
        assertMessage("parts must not be empty, got 0 parts", () -> TrafficSplit.<String>builder().build());
        assertThrows(NullPointerException.class, () -> TrafficSplit.<String>builder().part("1%", null));
        assertThrows(NullPointerException.class, () -> TrafficSplit.<String>builder().rest(null));
        // exactly 100% is fine, and so is a rest part with nothing left for it
        TrafficSplit<String> full = TrafficSplit.<String>builder().part("99.99%", "a").part("0.01%", "b").rest("c").build();
        assertEquals(List.of("a", "b", "c"), full.values());
        assertEquals(List.of("99.99%", "0.01%", "*"), full.percents());
        assertEquals("TrafficSplit{ 99.99% a; 0.01% b; * c; }", full.toString());
    }

    @Test
    void restAloneTakesEverything() {
        TrafficSplit<String> s = TrafficSplit.<String>builder().rest("only").build();
        for (int i = 0; i < 1000; i++) {
            assertEquals(Optional.of("only"), s.select("k" + i));
        }
    }

    @Test
    void selectingDoesNotAllocate() {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Assumptions.assumeTrue(mx instanceof com.sun.management.ThreadMXBean);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) mx;
        Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        TrafficSplit<String> s = TrafficSplit.<String>builder().part("10%", "a").part("20%", "b").build();
        byte[][] keys = new byte[64][];
        String[] strings = new String[64];
        for (int i = 0; i < keys.length; i++) {
            strings[i] = "client-" + i + "-\u00e9\ud83d\udd11";
            keys[i] = strings[i].getBytes(StandardCharsets.UTF_8);
        }
        int found = 0;
        for (int i = 0; i < 20_000; i++) {
            found += s.select(keys[i & 63]).isPresent() ? 1 : 0;
            found += s.select(strings[i & 63]).isPresent() ? 1 : 0;
        }
        long tid = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 100_000; i++) {
            found += s.select(keys[i & 63]).isPresent() ? 1 : 0;
            found += s.select(strings[i & 63]).isPresent() ? 1 : 0;
        }
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        assertTrue(allocated < 10_000, "allocated " + allocated + " bytes in 200000 selections");
        assertTrue(found > 0);
    }

    private static void assertMessage(String expected, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(expected, e.getMessage());
    }
}
