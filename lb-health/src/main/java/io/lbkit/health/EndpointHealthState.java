package io.lbkit.health;

/**
 * The joined health state of one endpoint, as {@link HealthMonitor} sees it. Administrative states
 * win over health states: a drained endpoint is {@link #DRAINING} whatever its checks say.
 *
 * <table>
 *   <caption>States and what the balancer does</caption>
 *   <tr><th>State</th><th>Balancer</th><th>nginx / HAProxy / Envoy</th></tr>
 *   <tr><td>{@link #CHECKING}</td><td>not picked (unless panic)</td><td>nginx Plus {@code checking}</td></tr>
 *   <tr><td>{@link #UP}</td><td>picked</td><td>{@code up} / UP / HEALTHY</td></tr>
 *   <tr><td>{@link #UNHEALTHY}</td><td>not picked (unless panic)</td><td>{@code unhealthy} / DOWN / FAILED_ACTIVE_HC</td></tr>
 *   <tr><td>{@link #EJECTED}</td><td>not picked (unless panic)</td><td>Envoy FAILED_OUTLIER_CHECK</td></tr>
 *   <tr><td>{@link #DRAINING}</td><td>no new requests; sticky-bound ones optional</td><td>{@code drain} / DRAIN / DRAINING</td></tr>
 *   <tr><td>{@link #DOWN}</td><td>never picked</td><td>{@code down} / MAINT</td></tr>
 * </table>
 */
public enum EndpointHealthState {
    /** Active checks are configured to start this way and have not passed yet (or a deployment reset it). */
    CHECKING,
    /** Serving. */
    UP,
    /** Active checks failing (fall reached). */
    UNHEALTHY,
    /** Ejected by outlier detection until its ejection time has passed. */
    EJECTED,
    /** Operator drain: no new requests; requests that prefer it may still arrive when allowed. */
    DRAINING,
    /** Maintenance: no requests at all. */
    DOWN
}
