package org.burstdeblur.demo

/**
 * The last n preview frames as ARGB pixels. CameraX's ImageAnalysis drops frames when the analyzer is
 * busy (STRATEGY_KEEP_ONLY_LATEST), so the app keeps its own ring of the most recent n it did receive.
 */
class BurstBuffer(private val n: Int) {
    private val frames = ArrayDeque<IntArray>(n)
    var width = 0
        private set
    var height = 0
        private set

    @Synchronized
    fun add(argb: IntArray, w: Int, h: Int) {
        if (w != width || h != height) { frames.clear(); width = w; height = h }  // rotation / resolution change
        if (frames.size == n) frames.removeFirst()
        frames.addLast(argb)
    }

    /** The burst, oldest first, or null until n frames have arrived. */
    @Synchronized
    fun snapshot(): Array<IntArray>? = if (frames.size < n) null else frames.toTypedArray()
}
