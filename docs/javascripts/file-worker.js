/* Search in a copy of the site opened from disk (file://) with no network. A browser refuses a Worker from a file
   URL, so there the search worker runs in a hidden iframe of the page instead: what Material's offline plugin loads
   the iframe-worker shim from unpkg.com for, kept local (docs/hooks.py puts this file in its place). */
(function () {
  if (location.protocol !== "file:") return;

  function FileWorker(url) {
    var worker = this;
    this.listeners = [];
    this.queue = [];
    this.frame = document.createElement("iframe");
    this.frame.hidden = true;
    this.frame.tabIndex = -1;
    this.frame.setAttribute("aria-hidden", "true");
    document.body.appendChild(this.frame);
    var inner = this.frame.contentWindow;
    inner.postMessage = function (data) {            // the worker's answer, to the page
      var message = structuredClone(data);
      setTimeout(function () {
        worker.listeners.forEach(function (listener) { listener({ data: message }); });
      });
    };
    inner.importScripts = function () {               // the worker's other scripts, one after the other
      var urls = Array.prototype.slice.call(arguments);
      return urls.reduce(function (done, src) {
        return done.then(function () { return load(inner.document, src); });
      }, Promise.resolve());
    };
    load(inner.document, new URL(url, location.href).href).then(function () {
      var waiting = worker.queue;
      worker.queue = null;
      waiting.forEach(function (data) { worker.postMessage(data); });
    });
  }

  function load(doc, src) {
    return new Promise(function (resolve, reject) {
      var script = doc.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = reject;
      doc.head.appendChild(script);
    });
  }

  FileWorker.prototype.postMessage = function (data) {   // the page's question, to the worker
    if (this.queue) return void this.queue.push(data);
    var inner = this.frame.contentWindow;
    inner.dispatchEvent(new inner.MessageEvent("message", { data: structuredClone(data) }));
  };
  FileWorker.prototype.addEventListener = function (type, listener) {
    if (type === "message") this.listeners.push(listener);
  };
  FileWorker.prototype.removeEventListener = function (type, listener) {
    this.listeners = this.listeners.filter(function (l) { return l !== listener; });
  };
  FileWorker.prototype.terminate = function () { this.frame.remove(); };

  window.Worker = FileWorker;
  window.IFrameWorker = FileWorker;     // the search worker looks for this name to find its language files
})();
