package org.burstdeblur.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Raw little-endian arrays written by android_demo/make_golden.py (folder: -Dgolden, default "golden"). */
public final class Golden {
    public static final Path FOLDER = Paths.get(System.getProperty("golden", "golden"));

    private Golden() {
    }

    public static ByteBuffer read(String name) throws IOException {
        return ByteBuffer.wrap(Files.readAllBytes(FOLDER.resolve(name + ".bin"))).order(ByteOrder.LITTLE_ENDIAN);
    }

    public static byte[] bytes(String name) throws IOException {
        return Files.readAllBytes(FOLDER.resolve(name + ".bin"));
    }

    public static int[] ints(String name) throws IOException {
        ByteBuffer b = read(name);
        int[] out = new int[b.remaining() / 4];
        b.asIntBuffer().get(out);
        return out;
    }

    public static float[] floats(String name) throws IOException {
        ByteBuffer b = read(name);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }
}
