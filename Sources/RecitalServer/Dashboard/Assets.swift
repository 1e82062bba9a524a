internal import HTTPTypes
internal import Hummingbird

/// The dashboard's one stylesheet and one script, served from the binary (no build step, nothing
/// from outside).
enum Assets {
    static func response(_ text: String, type: String) -> Response {
        var headers = HTML.securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static let style = """
        :root { --fg: #1d1f21; --muted: #5f6b76; --line: #d8dde3; --accent: #2457c5; --bg: #fff; --bad: #b3261e; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
        header { display: flex; gap: 1.5rem; align-items: center; padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); }
        header .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
        nav a { margin-right: 1rem; color: var(--accent); text-decoration: none; }
        .live { margin-left: auto; font-size: .8rem; color: #1b7f3b; }
        .live.polling { color: var(--muted); }
        main { padding: 1rem 1.25rem; max-width: 72rem; }
        h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
        .sub { color: var(--muted); font-size: .85rem; }
        .tabs { display: flex; flex-wrap: wrap; gap: .25rem; margin-bottom: .75rem; }
        .tabs a { padding: .4rem .7rem; border: 1px solid var(--line); border-radius: .4rem; margin: 0; }
        .tabs a.current { background: var(--accent); color: #fff; border-color: var(--accent); }
        form.search, .bulkbar { display: flex; gap: .5rem; margin: .5rem 0; flex-wrap: wrap; align-items: center; }
        input, select, button { font: inherit; min-height: 2.75rem; padding: .3rem .6rem; }
        button { border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: .4rem; cursor: pointer; }
        table { width: 100%; border-collapse: collapse; }
        th, td { text-align: left; padding: .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        progress { width: 8rem; height: 1rem; vertical-align: middle; }
        .summary progress { width: 100%; max-width: 32rem; }
        .state { display: inline-block; padding: .1rem .5rem; border-radius: 1rem; background: #eef1f4; font-size: .85rem; }
        .s-running, .c-running { background: #dbe7ff; } .s-completed, .c-done { background: #dcf3e2; }
        .s-failed, .c-failed { background: #fbdcd9; } .s-paused { background: #fff1c7; } .s-cancelled { background: #e6e6e6; }
        .error { color: var(--bad); } .warning { color: #8a5a00; } .notice { background: #eef5ff; padding: .5rem; }
        .actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; align-items: end; }
        .actions form { margin: 0; }
        .log { font-size: .85rem; color: var(--muted); max-height: 24rem; overflow: auto; }
        .drop { display: block; border: 2px dashed var(--line); padding: 2rem; border-radius: .6rem; margin-bottom: 1rem; }
        .drop.over { border-color: var(--accent); background: #eef5ff; }
        .fields { display: flex; flex-wrap: wrap; gap: 1rem; margin-bottom: 1rem; }
        .uploads li { margin: .4rem 0; } .uploads progress { width: 12rem; }
        audio { width: 100%; max-width: 36rem; }
        .js .noscript { display: none; }
        @media (max-width: 640px) {
          header { flex-wrap: wrap; gap: .5rem; } main { padding: .75rem; }
          table.jobs thead { display: none; }
          table.jobs tr { display: block; border-bottom: 1px solid var(--line); padding: .5rem 0; }
          table.jobs td { display: block; border: 0; padding: .2rem 0; }
          progress { width: 70%; }
        }
        """

    /// Live updates through one EventSource per tab (polling after three failures in a row, and
    /// while hidden nothing at all); confirmations; uploads with a progress bar per file.
    static let script = """
        "use strict";
        document.documentElement.classList.add("js");
        (function () {
          const body = document.body;
          const live = document.getElementById("live");
          const scope = body.dataset.live;
          function eta(seconds) {
            if (seconds === null || seconds === undefined) return "";
            const s = Math.floor(seconds);
            const pad = (n) => String(n).padStart(2, "0");
            return "ETA " + Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
          }
          function apply(job) {
            const row = document.querySelector('[data-job="' + job.id + '"]');
            if (!row) {
              if (scope === "all" && !location.search.includes("q=")) scheduleReload();
              return;
            }
            const set = (field, text) => { const el = row.querySelector('[data-field="' + field + '"]'); if (el) el.textContent = text; };
            const percent = Math.floor(job.progress * 100);
            const state = row.querySelector('[data-field="state"]');
            if (state) {
              if (state.textContent !== job.state && scope !== "all") { scheduleReload(); }
              state.textContent = job.state;
              state.className = "state s-" + job.state;
            }
            const bar = row.querySelector('[data-field="bar"]');
            if (bar) bar.value = percent;
            set("percent", percent + " %");
            set("eta", eta(job.etaSeconds));
            set("segments", job.segmentsDone + "/" + job.segmentsTotal);
            set("chapters", job.chaptersDone + "/" + job.chaptersTotal);
            set("encoded", job.chaptersEncoded + "/" + job.chaptersTotal);
            set("position", job.queuePosition ? "#" + job.queuePosition + " in queue" : "");
          }
          let reloadTimer = null;
          function scheduleReload() {
            if (reloadTimer) return;
            reloadTimer = setTimeout(() => location.reload(), 1000);
          }
          function remove(id) {
            const row = document.querySelector('tr[data-job="' + id + '"]');
            if (row) row.remove();
            else if (scope === String(id)) location.href = "/";
          }
          let source = null, failures = 0, pollTimer = null;
          function connect() {
            if (!scope || source) return;
            const url = scope === "all" ? "/api/v1/events" : "/api/v1/jobs/" + scope + "/events";
            source = new EventSource(url + "?since=" + encodeURIComponent(body.dataset.since || ""));
            source.addEventListener("open", () => { failures = 0; live.hidden = false; live.className = "live"; live.textContent = "live"; });
            source.addEventListener("job", (e) => { body.dataset.since = e.lastEventId || body.dataset.since; apply(JSON.parse(e.data)); });
            source.addEventListener("removed", (e) => remove(JSON.parse(e.data).id));
            source.addEventListener("error", () => {
              failures += 1;
              if (failures >= 3) { source.close(); source = null; startPolling(); }
            });
          }
          function startPolling() {
            live.hidden = false; live.className = "live polling"; live.textContent = "updating every 5 s";
            if (pollTimer) return;
            pollTimer = setInterval(async () => {
              if (document.hidden) return;
              try {
                const url = scope === "all" ? "/api/v1/jobs?limit=100" : "/api/v1/jobs/" + scope;
                const reply = await fetch(url, { headers: { Accept: "application/json" } });
                if (!reply.ok) return;
                const data = await reply.json();
                (data.items || [data]).forEach(apply);
              } catch (e) { /* the next tick tries again */ }
            }, 5000);
          }
          document.addEventListener("visibilitychange", () => {
            if (document.hidden) { if (source) { source.close(); source = null; } }
            else if (!pollTimer) connect();
          });
          if (new URLSearchParams(location.search).get("live") === "0") startPolling(); else connect();

          document.querySelectorAll("[data-autosubmit]").forEach((select) => {
            select.addEventListener("change", () => {
              const form = select.form || document.getElementById(select.getAttribute("form"));
              if (form) form.submit();
            });
          });
          document.querySelectorAll("form[data-confirm]").forEach((form) => {
            form.addEventListener("submit", (e) => { if (!confirm(form.dataset.confirm)) e.preventDefault(); });
          });
          const all = document.getElementById("all");
          if (all) all.addEventListener("change", () => {
            document.querySelectorAll('input[name="id"]').forEach((box) => { box.checked = all.checked; });
          });
          const bulk = document.getElementById("bulk");
          if (bulk) bulk.addEventListener("submit", (e) => {
            const chosen = document.querySelectorAll('input[name="id"]:checked').length;
            const action = bulk.querySelector("select").value;
            if (chosen === 0) { e.preventDefault(); alert("Select some jobs first."); return; }
            if (!confirm(action + " " + chosen + " job" + (chosen === 1 ? "" : "s") + "? Jobs whose state does not allow it are left as they are.")) e.preventDefault();
          });

          // ▶ plays a finished chapter in the page's own player (without script the link opens it).
          const preview = document.getElementById("preview");
          document.querySelectorAll("a[data-preview]").forEach((link) => {
            link.addEventListener("click", (e) => {
              if (!preview) return;
              e.preventDefault();
              preview.hidden = false;
              preview.src = link.dataset.preview;
              preview.play();
            });
          });

          // The log tail follows the job while it runs.
          const log = document.querySelector("ol.log");
          if (log && scope && scope !== "all") {
            setInterval(async () => {
              if (document.hidden) return;
              const state = document.querySelector('.summary [data-field="state"]');
              if (!state || !["running", "queued"].includes(state.textContent)) return;
              try {
                const reply = await fetch("/api/v1/jobs/" + scope + "/log", { headers: { Accept: "application/json" } });
                if (!reply.ok) return;
                const lines = (await reply.json()).slice(-50).reverse();
                log.replaceChildren(...lines.map((line) => {
                  const item = document.createElement("li");
                  const time = document.createElement("time");
                  time.textContent = line.at;
                  const kind = document.createElement("b");
                  kind.textContent = line.kind;
                  item.append(time, " ", kind, " ", line.message);
                  return item;
                }));
              } catch (e) { /* the next tick tries again */ }
            }, 3000);
          }

          const upload = document.getElementById("upload");
          if (upload) {
            const input = upload.querySelector('input[type="file"]');
            const drop = document.getElementById("drop");
            ["dragenter", "dragover"].forEach((n) => drop.addEventListener(n, (e) => { e.preventDefault(); drop.classList.add("over"); }));
            ["dragleave", "drop"].forEach((n) => drop.addEventListener(n, () => drop.classList.remove("over")));
            drop.addEventListener("drop", (e) => { e.preventDefault(); input.files = e.dataTransfer.files; });
            upload.addEventListener("submit", (e) => {
              e.preventDefault();
              const list = document.getElementById("uploads");
              const fields = new FormData(upload);
              Array.from(input.files).forEach((file) => {
                const item = document.createElement("li");
                const bar = document.createElement("progress");
                bar.max = 100; bar.value = 0;
                const label = document.createElement("span");
                label.textContent = " " + file.name + " ";
                item.append(bar, label);
                list.append(item);
                const query = new URLSearchParams({ filename: file.name, format: fields.get("format"), priority: fields.get("priority") });
                if (fields.get("voice")) query.set("voice", fields.get("voice"));
                const request = new XMLHttpRequest();
                request.open("POST", "/api/v1/jobs?" + query.toString());
                request.upload.addEventListener("progress", (p) => { if (p.lengthComputable) bar.value = Math.round(p.loaded / p.total * 100); });
                request.addEventListener("load", () => {
                  bar.value = 100;
                  let reply = {};
                  try { reply = JSON.parse(request.responseText); } catch (x) { reply = {}; }
                  if (request.status === 202 || request.status === 200) {
                    const link = document.createElement("a");
                    link.href = "/jobs/" + reply.id;
                    link.textContent = request.status === 202 ? "queued as job " + reply.id : "already job " + reply.id;
                    item.append(link);
                  } else {
                    const error = document.createElement("span");
                    error.className = "error";
                    error.textContent = reply.detail || ("failed: HTTP " + request.status);
                    item.append(error);
                  }
                });
                request.addEventListener("error", () => { label.textContent += "(the connection failed)"; });
                request.send(file);
              });
              upload.reset();
            });
          }
        })();
        """
}
