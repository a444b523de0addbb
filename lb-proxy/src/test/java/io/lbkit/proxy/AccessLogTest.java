package io.lbkit.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.proxy.engine.AccessRecord;
import io.lbkit.proxy.engine.LogFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogTest {

    @TempDir
    Path dir;

    private static AccessRecord record(String uri) {
        AccessRecord r = new AccessRecord().begin("192.0.2.1", "GET", uri, "HTTP/1.1", null, 0);
        r.status(200);
        r.end(0);
        return r;
    }

    @Test
    void linesGoToTheFileAndReopenStartsANewOne() throws Exception {
        Path file = dir.resolve("access.log");
        try (AccessLog log = AccessLog.builder().path(file).format("$request_uri $status \u00e9", LogFormat.Escape.DEFAULT)
                .build()) {
            log.log(record("/one"));
            log.log(record("/tw\u00e9")); // one char, one byte: 0xE9
            assertTrue(log.flush(Duration.ofSeconds(10)));
            Path rotated = dir.resolve("access.log.1");
            Files.move(file, rotated);
            log.log(record("/three")); // still goes to the moved file until the reopen
            assertTrue(log.flush(Duration.ofSeconds(10)));
            log.reopen();
            log.log(record("/four"));
            assertTrue(log.flush(Duration.ofSeconds(10)));
            assertEquals(List.of("/one 200 \u00e9", "/tw\\xE9 200 \u00e9", "/three 200 \u00e9"),
                    Files.readAllLines(rotated, StandardCharsets.UTF_8));
            assertEquals(List.of("/four 200 \u00e9"), Files.readAllLines(file, StandardCharsets.UTF_8));
            assertEquals(4, log.written());
            assertEquals(0, log.dropped());
        }
    }

    @Test
    void aFullQueueDropsAndCountsNeverBlocks() throws Exception {
        Path file = dir.resolve("access.log");
        AccessLog log = AccessLog.builder().path(file).queueCapacity(1).format("$request_uri", LogFormat.Escape.DEFAULT)
                .build();
        int n = 10_000;
        for (int i = 0; i < n; i++) {
            log.log(record("/" + i));
        }
        log.close();
        long lines = Files.readAllLines(file).size();
        assertEquals(n, lines + log.dropped());
        assertEquals(lines, log.written());
        assertTrue(lines >= 1);
        log.log(record("/after"));
        assertEquals(n + 1, lines + log.dropped(), "a closed log drops");
    }
}
