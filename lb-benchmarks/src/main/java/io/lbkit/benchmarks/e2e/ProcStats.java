package io.lbkit.benchmarks.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@link E2eHarness} reads of a measured process from {@code /proc}: CPU time, context
 * switches and resident memory, each summed over the process and its descendants (nginx's
 * workers).
 */
final class ProcStats {

    private ProcStats() {
    }

    /** Resident set size in KiB of a process and its descendants (nginx's workers). */
    static long rssKb(ProcessHandle h) {
        long sum = rssKbOf(h.pid());
        for (ProcessHandle d : (Iterable<ProcessHandle>) h.descendants()::iterator) {
            sum += rssKbOf(d.pid());
        }
        return sum;
    }

    static long rssKbOf(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // ended
        }
        return 0;
    }

    /** CPU time (user + system, in clock ticks of 10 ms) of a process and its descendants (nginx's workers). */
    static long cpuTicks(ProcessHandle h) {
        long sum = cpuTicksOf(h.pid());
        for (ProcessHandle d : (Iterable<ProcessHandle>) h.descendants()::iterator) {
            sum += cpuTicksOf(d.pid());
        }
        return sum;
    }

    /** System (kernel) CPU ticks of a process and its descendants. */
    static long sysTicks(ProcessHandle h) {
        long sum = statField(h.pid(), 12);
        for (ProcessHandle d : (Iterable<ProcessHandle>) h.descendants()::iterator) {
            sum += statField(d.pid(), 12);
        }
        return sum;
    }

    static long statField(long pid, int index) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[index]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * Voluntary and involuntary context switches of every live thread of a process and its
     * descendants (threads that ended meanwhile are not counted).
     */
    static long contextSwitches(ProcessHandle h) {
        long sum = switchesOf(h.pid());
        for (ProcessHandle d : (Iterable<ProcessHandle>) h.descendants()::iterator) {
            sum += switchesOf(d.pid());
        }
        return sum;
    }

    static long switchesOf(long pid) {
        long sum = 0;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return sum;
    }

    static long cpuTicksOf(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
