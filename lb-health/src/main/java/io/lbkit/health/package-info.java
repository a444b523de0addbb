/**
 * Endpoint health for an {@link io.lbkit.core.Upstream}. {@link io.lbkit.health.HealthMonitor} is
 * the state machine of each endpoint (checking, up, unhealthy, ejected, draining, down): it joins
 * Envoy-style outlier detection ({@link io.lbkit.health.OutlierDetection}: consecutive 5xx and
 * gateway failures, success rate, failure percentage, growing ejection times, a cap on the ejected
 * share), active check results, the operator's drain (nginx {@code drain}) and maintenance (HAProxy
 * MAINT), and Envoy's panic threshold. {@link io.lbkit.health.ActiveChecker} runs HTTP and TCP
 * probes with HAProxy's {@code inter}, {@code rise} and {@code fall} ({@link io.lbkit.health.ActiveCheck},
 * {@link io.lbkit.health.HttpCheck}, {@link io.lbkit.health.TcpCheck}) for thousands of endpoints on
 * one scheduler. {@link io.lbkit.health.RollingDeployment} takes endpoints through an update one at
 * a time (drain, wait idle, update, wait healthy, readmit with slow start). Application health for
 * backends is in {@link io.lbkit.health.app}.
 */
package io.lbkit.health;
