package dev.berth.agent.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A request body as an {@link InputStream} and a response as an {@link OutputStream}, for code that
 * reads and writes on a worker thread (tar streams, file contents). Both hold a bounded amount in
 * memory: the request is paused while a worker has not caught up, and a writer waits while the
 * response's queue is full.
 */
final class BlockingStreams {

    private static final int HIGH_WATER = 1 << 20;
    private static final Buffer END = Buffer.buffer();

    private BlockingStreams() {
    }

    /** The body of {@code request}, which must not have been read yet. */
    static InputStream input(HttpServerRequest request) {
        LinkedBlockingQueue<Buffer> queue = new LinkedBlockingQueue<>();
        AtomicLong queued = new AtomicLong();
        Throwable[] failure = new Throwable[1];
        request.handler(data -> {
            queue.add(data);
            if (queued.addAndGet(data.length()) > HIGH_WATER) {
                request.pause();
            }
        });
        request.exceptionHandler(t -> {
            failure[0] = t;
            queue.add(END);
        });
        request.endHandler(v -> queue.add(END));
        request.resume();
        return new InputStream() {
            private Buffer current;
            private int position;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                while (current == null || position >= current.length()) {
                    if (current == END) {
                        if (failure[0] != null) {
                            throw new IOException("the upload broke off: " + failure[0].getMessage(), failure[0]);
                        }
                        return -1;
                    }
                    try {
                        current = queue.take();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted while reading the upload");
                    }
                    position = 0;
                    if (current != END && queued.addAndGet(-current.length()) < HIGH_WATER / 2) {
                        request.resume();
                    }
                }
                int n = Math.min(len, current.length() - position);
                current.getBytes(position, position + n, b, off);
                position += n;
                return n;
            }
        };
    }

    /** A chunked response body; {@link OutputStream#close()} ends the response. */
    static OutputStream output(HttpServerResponse response) {
        response.setChunked(true);
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (response.closed()) {
                    throw new IOException("the client went away");
                }
                while (response.writeQueueFull() && !response.closed()) {
                    CountDownLatch drained = new CountDownLatch(1);
                    response.drainHandler(v -> drained.countDown());
                    try {
                        drained.await(200, TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted while sending");
                    }
                }
                response.write(Buffer.buffer().appendBytes(b, off, len));
            }

            @Override
            public void close() {
                if (!response.ended()) {
                    response.end();
                }
            }
        };
    }
}
