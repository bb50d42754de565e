// The media picker: a dialog listing uploaded images (newest first, a page at a
// time), with an upload field. PostinoMediaPicker.open(callback) calls
// callback({url, width, height, alt}) with the image picked, or nothing if closed.
(function () {
  "use strict";

  const LIST_URL = "/media/library.json";
  const UPLOAD_URL = "/media/upload/";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([key, value]) => {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    });
    (children || []).forEach((child) => node.appendChild(child));
    return node;
  }

  function open(callback) {
    let next = null;
    const grid = element("div", { class: "media-picker-grid", role: "listbox", "aria-label": "Images" });
    const status = element("p", { class: "muted", role: "status" });
    const more = element("button", { type: "button", class: "button", text: "Load more", hidden: "" });
    const file = element("input", { type: "file", accept: "image/png,image/jpeg,image/gif,image/webp", "aria-label": "Upload an image" });
    const close = element("button", { type: "button", class: "button button-quiet", text: "Cancel" });
    const dialog = element("dialog", { class: "media-picker", "aria-label": "Choose an image" }, [
      element("h2", { text: "Choose an image" }),
      element("p", {}, [file]),
      status,
      grid,
      element("p", { class: "actions" }, [more, close]),
    ]);
    dialog.style.cssText = "width:min(760px,95vw);max-height:85vh;overflow:auto;border-radius:8px;";
    grid.style.cssText = "display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:12px;";

    function finish(choice) {
      dialog.close();
      dialog.remove();
      if (choice && callback) callback(choice);
    }

    function tile(item) {
      const image = element("img", { src: item.src || item.url, alt: item.alt, loading: "lazy" });
      image.style.cssText = "width:100%;height:110px;object-fit:contain;background:#f3f4f6;";
      const button = element("button", { type: "button", class: "media-picker-item", role: "option", title: item.name }, [
        image,
        element("span", { class: "muted", text: `${item.name} · ${item.width}×${item.height}` }),
      ]);
      button.style.cssText = "display:flex;flex-direction:column;gap:4px;text-align:left;border:1px solid #e5e7eb;border-radius:6px;padding:6px;background:#fff;cursor:pointer;overflow:hidden;font-size:12px;";
      button.addEventListener("click", () =>
        finish({ url: item.url, width: item.width, height: item.height, alt: item.alt })
      );
      return button;
    }

    async function load() {
      const url = next === null ? LIST_URL : `${LIST_URL}?before=${encodeURIComponent(next)}`;
      status.textContent = "Loading…";
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) {
        status.textContent = "Could not load the images.";
        return;
      }
      const page = await response.json();
      page.items.forEach((item) => grid.appendChild(tile(item)));
      next = page.next;
      more.hidden = next === null;
      status.textContent = grid.children.length ? "" : "No images yet: upload one.";
    }

    file.addEventListener("change", async () => {
      if (!file.files.length) return;
      const body = new FormData();
      body.append("file", file.files[0]);
      status.textContent = "Uploading…";
      const response = await fetch(UPLOAD_URL, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      });
      const answer = await response.json().catch(() => ({ error: "The upload failed." }));
      file.value = "";
      if (!response.ok) {
        status.textContent = answer.error || "The upload failed.";
        return;
      }
      status.textContent = "Uploaded: choose it below.";
      grid.insertBefore(tile(answer), grid.firstChild);
    });
    more.addEventListener("click", load);
    close.addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", () => dialog.remove());

    document.body.appendChild(dialog);
    dialog.showModal();
    load();
    return dialog;
  }

  window.PostinoMediaPicker = { open };
})();
