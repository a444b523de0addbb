package io.lbkit.benchmarks.e2e;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Holds {@code streams} concurrent Server-Sent Events streams open through a proxy and checks
 * that every event of every stream arrives, and arrives as it is written: each stream is
 * {@code GET /sse?count=C&ms=M} on the harness backends (an event every M ms), read line by line
 * with the JDK client (non-blocking, a few threads for all streams).
 *
 * <p>Reports the streams completed with all events, the delay from request to first event
 * (p50/p99/max), and the longest gap between two events of one stream: a proxy that buffered the
 * stream would show gaps far above M ms.
 */
final class SseScale {

    record Result(int streams, int complete, int events, double firstP50, double firstP99, double firstMax,
                  double gapMax, long elapsedMillis, int peakOpen) {
    }

    private SseScale() {
    }

    static Result run(int port, int streams, int count, int ms, ThreadPeak threads) throws Exception {
        ExecutorService exec = Executors.newFixedThreadPool(4);
        HttpClient client = HttpClient.newBuilder().executor(exec).connectTimeout(Duration.ofSeconds(10)).build();
        long[] firstNanos = new long[streams];
        long[] maxGapNanos = new long[streams];
        int[] got = new int[streams];
        AtomicInteger open = new AtomicInteger();
        int peakOpen = 0;
        List<CompletableFuture<?>> all = new ArrayList<>();
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < streams; i++) {
                final int s = i;
                long start = System.nanoTime();
                HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/sse?count=" + count + "&ms=" + ms))
                        .timeout(Duration.ofSeconds(60 + (long) count * ms / 1000)).build();
                Flow.Subscriber<String> lines = new Flow.Subscriber<>() {
                    long last;

                    @Override
                    public void onSubscribe(Flow.Subscription sub) {
                        open.incrementAndGet();
                        sub.request(Long.MAX_VALUE);
                    }

                    @Override
                    public void onNext(String line) {
                        if (!line.startsWith("data:")) {
                            return;
                        }
                        long now = System.nanoTime();
                        if (got[s] == 0) {
                            firstNanos[s] = now - start;
                        } else {
                            maxGapNanos[s] = Math.max(maxGapNanos[s], now - last);
                        }
                        last = now;
                        got[s]++;
                    }

                    @Override
                    public void onError(Throwable t) {
                        open.decrementAndGet();
                    }

                    @Override
                    public void onComplete() {
                        open.decrementAndGet();
                    }
                };
                all.add(client.sendAsync(req, HttpResponse.BodyHandlers.fromLineSubscriber(lines)));
            }
            // while the streams are held, sample the proxy's thread count
            CompletableFuture<Void> done = CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
            while (!done.isDone()) {
                threads.sample();
                peakOpen = Math.max(peakOpen, open.get());
                try {
                    done.get(200, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    // keep sampling
                } catch (java.util.concurrent.ExecutionException e) {
                    // a failed stream counts as incomplete below
                }
            }
            for (CompletableFuture<?> f : all) {
                f.handle((v, x) -> null).join();
            }
        } finally {
            exec.shutdownNow();
        }
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        int complete = 0;
        int events = 0;
        List<Double> first = new ArrayList<>();
        double gap = 0;
        for (int i = 0; i < streams; i++) {
            events += got[i];
            if (got[i] == count) {
                complete++;
            }
            if (got[i] > 0) {
                first.add(firstNanos[i] / 1e6);
            }
            gap = Math.max(gap, maxGapNanos[i] / 1e6);
        }
        double[] f = first.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new Result(streams, complete, events, pct(f, 50), pct(f, 99), f.length == 0 ? Double.NaN : f[f.length - 1],
                gap, elapsed, peakOpen);
    }

    private static double pct(double[] sorted, int p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    /** Samples a process's live thread count and keeps the peak. */
    static final class ThreadPeak {
        private final long pid;
        private int peak;
        private long peakRssKb;

        ThreadPeak(long pid) {
            this.pid = pid;
        }

        void sample() {
            String[] tasks = new java.io.File("/proc/" + pid + "/task").list();
            if (tasks != null) {
                peak = Math.max(peak, tasks.length);
            }
            ProcessHandle.of(pid).ifPresent(h -> peakRssKb = Math.max(peakRssKb, ProcStats.rssKb(h)));
        }

        long peakRssKb() {
            return peakRssKb;
        }

        int peak() {
            return peak;
        }
    }
}
