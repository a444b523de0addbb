/**
 * The Redis {@link io.lbkit.session.SessionStore} on Redisson (standalone, Sentinel, Cluster):
 * {@link io.lbkit.session.redis.RedisSessionStore}, one Lua script per operation and an optional
 * near cache kept coherent through pub/sub. Maven: {@code io.lbkit:lb-session-redis}.
 */
package io.lbkit.session.redis;
