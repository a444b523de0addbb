/**
 * Retries: when a failed request may go to another endpoint ({@link io.lbkit.core.retry.RetryPolicy},
 * nginx {@code proxy_next_upstream}), how many retries may run at once
 * ({@link io.lbkit.core.retry.RetryBudget}, Envoy's retry budget) and how long to wait between
 * them ({@link io.lbkit.core.retry.RetryBackoff}, Envoy's jittered back-off).
 *
 * <p>These classes decide; the caller does the I/O: it picks with
 * {@link io.lbkit.core.Upstream#pick(io.lbkit.core.PickRequest)}, completes the
 * {@link io.lbkit.core.Selection}, marks it tried and asks
 * {@link io.lbkit.core.retry.RetryPolicy.Attempts#next} what to do next.
 */
package io.lbkit.core.retry;
