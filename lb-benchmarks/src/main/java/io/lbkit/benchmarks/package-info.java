/** JMH benchmarks for lbkit's hot paths, with peer libraries measured in the same run. */
package io.lbkit.benchmarks;
