package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.split.TrafficSplit;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SplitCommandTest {

    @TempDir
    Path dir;

    // nginx ngx_murmur_hash2 values (see TrafficSplitTest): "" 0, "abc" 0x13577c9b (7.6% of 2^32),
    // "abcd" 0x26873021 (15.0%), "abcde" 0x5f09a8de (37.1%), "a" 0x92685f5e (57.2%),
    // "hello" 0xe56129cb (89.6%)
    private static final String KEYS = "\nabc\nabcd\nabcde\na\nhello\n";

    @Test
    void printsTheVariantPerKey() {
        Path keys = Cli.write(dir, "keys.txt", KEYS);
        Cli.Result r = Cli.run("split", "--part", "12.5%=A", "--part", "*=B", "--keys", keys.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
        assertEquals(List.of("A", "A", "B", "B", "B", "B"), r.outLines());
    }

    @Test
    void severalParts() {
        Path keys = Cli.write(dir, "keys.txt", KEYS);
        Cli.Result r = Cli.run("split", "--part", "10%=.one", "--part=30%=.two", "--part", "50.5%=.three",
                "--part", "*=", "--keys", keys.toString());
        assertEquals(0, r.status(), r.err());
        // cuts at 10%, 40%, 90.5%; the rest is the empty string
        assertEquals(List.of(".one", ".one", ".two", ".two", ".three", ".three"), r.outLines());
    }

    @Test
    void emptyLineWhenNoPartMatches() {
        Path keys = Cli.write(dir, "keys.txt", KEYS);
        Cli.Result r = Cli.run("split", "--part", "10%=A", "--keys", keys.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("A\nA\n\n\n\n\n", r.out());
    }

    @Test
    void agreesWithTrafficSplitOnManyKeys() {
        StringBuilder sb = new StringBuilder();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            String k = "192.168." + (i / 256) + "." + (i % 256) + "AAA";
            keys.add(k);
            sb.append(k).append('\n');
        }
        Path file = Cli.write(dir, "keys.txt", sb.toString());
        Cli.Result r = Cli.run("split", "--part", "0.5%=.one", "--part", "2.0%=.two", "--part", "*=",
                "--keys", file.toString());
        assertEquals(0, r.status(), r.err());
        TrafficSplit<String> split = TrafficSplit.<String>builder().part("0.5%", ".one").part("2.0%", ".two")
                .rest("").build();
        List<String> expected = new ArrayList<>();
        for (String k : keys) {
            expected.add(split.select(k).orElse("?"));
        }
        assertEquals(expected, r.outLines());
        long ones = expected.stream().filter(".one"::equals).count();
        assertTrue(ones > 5 && ones < 60, "about 0.5% of 5000: " + ones);
    }
}
