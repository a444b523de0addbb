package io.lbkit.core;

/**
 * A direct transcription of nginx's round-robin peer selection and release
 * ({@code ngx_http_upstream_get_peer} and {@code ngx_http_upstream_free_round_robin_peer}),
 * used as the reference the O(1) implementation must match pick for pick.
 */
final class NginxRoundRobinModel {
    final int[] weight;
    final int[] effective;
    final long[] current;
    final int[] fails;
    final long[] checked;
    final long[] accessed;
    final int maxFails;
    final long failTimeout;

    NginxRoundRobinModel(int[] weights, int maxFails, long failTimeout) {
        int n = weights.length;
        weight = weights.clone();
        effective = weights.clone();
        current = new long[n];
        fails = new int[n];
        checked = new long[n];
        accessed = new long[n];
        this.maxFails = maxFails;
        this.failTimeout = failTimeout;
    }

    int pick(long now) {
        int best = -1;
        long total = 0;
        for (int i = 0; i < weight.length; i++) {
            if (maxFails != 0 && fails[i] >= maxFails && now - checked[i] <= failTimeout) {
                continue;
            }
            current[i] += effective[i];
            total += effective[i];
            if (effective[i] < weight[i]) {
                effective[i]++;
            }
            if (best < 0 || current[i] > current[best]) {
                best = i;
            }
        }
        if (best < 0) {
            return -1;
        }
        current[best] -= total;
        if (now - checked[best] > failTimeout) {
            checked[best] = now;
        }
        return best;
    }

    void free(int i, boolean failed, long now) {
        if (failed) {
            fails[i]++;
            accessed[i] = now;
            checked[i] = now;
            if (maxFails != 0) {
                effective[i] -= weight[i] / maxFails;
            }
            if (effective[i] < 0) {
                effective[i] = 0;
            }
        } else if (accessed[i] < checked[i]) {
            fails[i] = 0;
        }
    }
}
