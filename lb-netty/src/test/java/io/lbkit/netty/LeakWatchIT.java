package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The leak check of the other tests can fail: a buffer dropped unreleased is reported. */
class LeakWatchIT {

    static {
        LeakWatch.install();
    }

    @Test
    void anUnreleasedBufferIsReported() {
        assertFalse(ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID,
                "the test JVM must run the leak detector at PARANOID, it runs at " + ResourceLeakDetector.getLevel());
        leak();
        List<String> found = new ArrayList<>();
        for (int i = 0; i < 50 && found.isEmpty(); i++) {
            found.addAll(LeakWatch.collect(2));
        }
        assertFalse(found.isEmpty(), "a leaked buffer was not reported");
    }

    private static void leak() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        b.writeLong(42);
        // dropped without release()
    }
}
