package io.lbkit.core;

/** nginx's default balancing: smooth weighted round robin. See {@link SwrrPicker}. */
final class RoundRobinPolicy extends BalancingPolicy {

    RoundRobinPolicy() {
        super("round-robin");
    }

    @Override
    Picker newPicker(Candidates c) {
        return new SwrrPicker(c, true);
    }
}
