package io.lbkit.core;

/**
 * HAProxy's bounded loads for consistent hashing ({@code hash-balance-factor}), as in
 * {@code chash_server_is_eligible}: with {@code c} requests in flight and factor {@code f}
 * (percent), there are {@code ceil((c+1)·f/100)} slots, shared by weight, whole slots first and the
 * remainder spread by cumulative weight; an endpoint takes a request only while its own in-flight
 * count is below its slots (never fewer than one).
 */
final class BoundedLoad {
    private final int factor;
    private final int[] cumulativeBefore; // per candidate index
    private final int[] weight;
    private final int totalWeight;

    BoundedLoad(int factor, int[] weights) {
        this.factor = factor;
        this.weight = weights.clone();
        this.cumulativeBefore = new int[weights.length];
        int sum = 0;
        for (int i = 0; i < weights.length; i++) {
            cumulativeBefore[i] = sum;
            sum += weights[i];
        }
        this.totalWeight = Math.max(1, sum);
    }

    /** Whether candidate {@code i}, with {@code served} in flight, may take one more request. */
    boolean hasRoom(int i, int served, int totalInFlight) {
        long totSlots = ((long) (totalInFlight + 1) * factor + 99) / 100;
        long perWeight = totSlots / totalWeight;
        long rem = totSlots % totalWeight;
        long cb = cumulativeBefore[i];
        long w = weight[i];
        long slots = w * perWeight + ((cb + w) * rem) / totalWeight - (cb * rem) / totalWeight;
        if (slots == 0) {
            slots = 1;
        }
        return served < slots;
    }
}
