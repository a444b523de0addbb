package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Netty's leak reports, caught. The test JVMs run the detector at PARANOID (every buffer tracked,
 * see the pom); {@link #assertNoLeaks} collects garbage, lets the detector look at what was
 * collected without being released, and fails on any report.
 */
final class LeakWatch {

    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    static {
        ByteBufUtil.setLeakListener((type, records) -> LEAKS.add(type + ": " + records));
    }

    private LeakWatch() {
    }

    /** Makes sure the listener is registered (class initialization). */
    static void install() {
    }

    /** Runs the detector until it has seen what the collector found (bounded), and returns the reports. */
    static List<String> collect(int rounds) {
        for (int i = 0; i < rounds; i++) {
            System.gc();
            // the detector reports what it found when the next buffer is tracked
            PooledByteBufAllocator.DEFAULT.directBuffer(16).release();
            PooledByteBufAllocator.DEFAULT.heapBuffer(16).release();
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        List<String> found = new ArrayList<>(LEAKS);
        LEAKS.clear();
        return found;
    }

    static void assertNoLeaks() {
        List<String> found = collect(5);
        if (!found.isEmpty()) {
            fail(found.size() + " buffer leak(s) reported by Netty:\n" + String.join("\n---\n", found));
        }
    }
}
