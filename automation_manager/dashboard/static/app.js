// amgr dashboard: live parts of the pages, without a framework.
// Parts marked data-live are re-read from the page's own URL every 5 s while something
// runs and every 30 s when idle; a run page streams its activity by Server-Sent Events.
"use strict";

(function () {
  const ACTIVE_MS = 5000;
  const IDLE_MS = 30000;

  function isActive(doc) {
    const meta = doc.querySelector('meta[name="refresh-active"]');
    return meta !== null && meta.getAttribute("content") === "yes";
  }

  function refreshLater(ms) {
    window.setTimeout(refresh, ms);
  }

  async function refresh() {
    let next = isActive(document) ? ACTIVE_MS : IDLE_MS;
    try {
      const response = await fetch(window.location.href, {
        headers: { Accept: "text/html" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        document.querySelectorAll("[data-live]").forEach(function (part) {
          const other = part.id ? fresh.getElementById(part.id) : null;
          if (other !== null) {
            part.replaceWith(document.importNode(other, true));
          }
        });
        const meta = document.querySelector('meta[name="refresh-active"]');
        if (meta !== null) {
          meta.setAttribute("content", isActive(fresh) ? "yes" : "no");
        }
        next = isActive(fresh) ? ACTIVE_MS : IDLE_MS;
      }
    } catch (err) {
      next = IDLE_MS;
    }
    refreshLater(next);
  }

  function streamRun(log) {
    const source = new EventSource(log.getAttribute("data-events"));
    const bar = document.getElementById("run-progress");
    const where = document.getElementById("run-where");
    const status = document.getElementById("run-status");
    source.addEventListener("log", function (event) {
      log.textContent += JSON.parse(event.data) + "\n";
      log.scrollTop = log.scrollHeight;
    });
    source.addEventListener("state", function (event) {
      const run = JSON.parse(event.data);
      if (bar !== null) {
        bar.max = run.planned || 1;
        bar.value = run.done;
      }
      if (where !== null) {
        where.textContent = (run.stage || "not started") + " " + run.done + "/" + run.planned;
      }
      if (status !== null) {
        status.textContent = run.status;
      }
    });
    source.addEventListener("end", function () {
      source.close();
      const section = document.getElementById("run");
      const was = section !== null ? section.getAttribute("data-status") : null;
      if (status !== null && was !== status.textContent) {
        window.setTimeout(function () { window.location.reload(); }, 500);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const log = document.getElementById("activity");
    if (log !== null && log.hasAttribute("data-events")) {
      streamRun(log);
    }
    if (document.querySelector("[data-live]") !== null) {
      refreshLater(isActive(document) ? ACTIVE_MS : IDLE_MS);
    }
  });
})();
