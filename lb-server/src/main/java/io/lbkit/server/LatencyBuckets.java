package io.lbkit.server;

import java.util.concurrent.atomic.LongAdder;

/**
 * A fixed log-linear latency histogram layout for the dashboard's percentiles: four buckets per
 * power of two of microseconds (so a bucket's upper bound is at most 25 % above its lower
 * bound), from 1 µs to over a minute. Counting is one array index and one striped increment;
 * percentiles are read from the difference of two snapshots of the counts.
 */
final class LatencyBuckets {

    /** Buckets 0..3 hold 0..3 µs; then four per octave; the last one holds everything above. */
    static final int COUNT = 112;

    private LatencyBuckets() {
    }

    static LongAdder[] newCounters() {
        LongAdder[] a = new LongAdder[COUNT];
        for (int i = 0; i < COUNT; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    /** The bucket of a latency in nanoseconds (negative counts as zero). */
    static int index(long nanos) {
        long us = Math.max(0, nanos / 1000);
        if (us < 4) {
            return (int) us;
        }
        int octave = 63 - Long.numberOfLeadingZeros(us); // >= 2
        int sub = (int) (us >>> (octave - 2)) & 3;
        return Math.min(COUNT - 1, (octave - 1) * 4 + sub);
    }

    /** The exclusive upper bound of a bucket, in microseconds. */
    static long upperMicros(int index) {
        if (index < 4) {
            return index + 1;
        }
        int octave = index / 4 + 1;
        int sub = index % 4;
        return (long) (5 + sub) << (octave - 2);
    }

    /**
     * The {@code q} quantile (0 &lt; q &lt;= 1) of the counts, as the upper bound in microseconds
     * of the bucket it falls in; -1 when there are no counts.
     */
    static long quantileMicros(long[] counts, double q) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        if (total == 0) {
            return -1;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank && counts[i] > 0) {
                return upperMicros(i);
            }
        }
        return upperMicros(counts.length - 1);
    }
}
