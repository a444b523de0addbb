package io.lbkit.benchmarks.e2e;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;

/**
 * A measuring door into a JVM proxy that {@link E2eHarness} starts: a daemon thread reads
 * commands on standard input and answers on standard output (the harness's log file of the
 * process), one line per command, tagged with the command's sequence number:
 * <ul>
 *   <li>{@code alloc N}: {@code probe N alloc <bytes>}, the bytes allocated so far by every live
 *       thread of the JVM ({@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes}); the
 *       harness takes the difference around a measured slice and divides by its requests.</li>
 *   <li>{@code heap N}: {@code probe N heap <bytes>}, the heap in use after three full
 *       collections ({@code System.gc()}, which G1 runs as full collections by default).</li>
 * </ul>
 * Nothing here runs unless the harness asks, so a slice without commands measures the proxy alone.
 */
final class Probe {

    private Probe() {
    }

    static void install() {
        Thread t = new Thread(Probe::serve, "lbkit-bench-probe");
        t.setDaemon(true);
        t.start();
    }

    private static void serve() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII))) {
            for (String line; (line = in.readLine()) != null; ) {
                String[] w = line.trim().split(" ");
                if (w.length != 2) {
                    continue;
                }
                long value = switch (w[0]) {
                    case "alloc" -> allocated();
                    case "heap" -> heapAfterGc();
                    default -> -1;
                };
                System.out.println("probe " + w[1] + " " + w[0] + " " + value);
                System.out.flush();
            }
        } catch (Exception e) {
            System.out.println("probe failed: " + e);
        }
    }

    static long allocated() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long b : mx.getThreadAllocatedBytes(mx.getAllThreadIds())) {
            if (b > 0) {
                sum += b;
            }
        }
        return sum;
    }

    static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
