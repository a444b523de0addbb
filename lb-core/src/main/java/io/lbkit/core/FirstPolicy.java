package io.lbkit.core;

/**
 * HAProxy {@code first}: the first endpoint in configuration order that has free capacity (below
 * its {@link Endpoint#maxConnections()}, or any endpoint without a cap). Fills one endpoint before
 * using the next, so idle ones can be powered down.
 */
final class FirstPolicy extends BalancingPolicy {

    FirstPolicy() {
        super("first");
    }

    @Override
    Picker newPicker(Candidates c) {
        Member[] m = c.usableMembers;
        return (req, slowStart) -> {
            for (Member mm : m) {
                if (Candidates.eligible(mm, req)) {
                    return mm;
                }
            }
            return null;
        };
    }
}
