package io.lbkit.health;

/**
 * Receives every active probe result. Called on the checker's threads; must not block.
 */
@FunctionalInterface
public interface CheckListener {
    void onResult(CheckResult result);
}
