/**
 * The Redis {@link io.lbkit.session.SessionStore} on Redisson (standalone, Sentinel, Cluster):
 * {@link io.lbkit.session.redis.RedisSessionStore}, one Lua script per operation, an optional
 * near cache kept coherent through pub/sub, and asynchronous methods that never block the
 * calling thread. Maven: {@code io.lbkit:lb-session-redis}.
 */
package io.lbkit.session.redis;
