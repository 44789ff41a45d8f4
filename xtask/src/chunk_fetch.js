// Prepended by xtask (frontend.rs) to the wasm splitter's chunk loader, __wasm_split.js,
// whose `fetch(` calls become `berthChunkFetch(`. A chunk's fetch fails instead of hanging
// or handing a bad body to WebAssembly: an HTTP error status is an error, and a download
// that receives nothing for STALL_MS is aborted. The app (frontend/src/lazy.rs) then
// retries; the loader caches only successful loads, so a retry fetches again.
const STALL_MS = 10000;
function berthChunkFetch(url) {
    const ctl = new AbortController();
    let timer;
    const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => ctl.abort(new Error(`${url}: no data for ${STALL_MS} ms`)), STALL_MS);
    };
    arm();
    return fetch(url, { signal: ctl.signal }).then((res) => {
        if (!res.ok || !res.body) {
            clearTimeout(timer);
            throw new Error(`${url}: HTTP ${res.status}`);
        }
        // Every piece of the body re-arms the stall timer.
        const body = res.body.pipeThrough(new TransformStream({
            transform(piece, out) { arm(); out.enqueue(piece); },
            flush() { clearTimeout(timer); },
        }));
        return new Response(body, { headers: { 'content-type': 'application/wasm' } });
    }, (err) => {
        clearTimeout(timer);
        throw err;
    });
}
