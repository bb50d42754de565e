// The campaign body editor: rich text (TipTap), Markdown and HTML (CodeMirror 6).
//
// The form's textareas stay the truth: each editor writes back into its
// textarea, so the form posts the same fields with or without JavaScript
// (campaigns.forms.CampaignForm). Switching modes follows campaigns/editor.py:
// Markdown to HTML or rich text takes the HTML the server makes from the
// Markdown (exact); rich text and HTML share one HTML; HTML or rich text to
// Markdown converts here, after a warning the author may cancel, because
// Markdown cannot say everything HTML can. Template errors from the live
// preview (static/js/live_preview.js) are marked on their lines.
(function () {
  "use strict";

  var JINJA = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g;

  function htmlToMarkdown(html) {
    // Jinja tags are swapped for letters and digits first: Markdown escaping
    // would turn {{ unsubscribe_url }} into {{ unsubscribe\_url }}.
    var nonce = Math.random().toString(36).slice(2, 8);
    var tags = [];
    var hidden = html.replace(JINJA, function (tag) {
      tags.push(tag);
      return "pjt" + nonce + "n" + (tags.length - 1) + "x";
    });
    var service = new window.PostinoTurndown.TurndownService({
      headingStyle: "atx", bulletListMarker: "-", codeBlockStyle: "fenced", emDelimiter: "*",
    });
    var markdown = service.turndown(hidden);
    return markdown.replace(new RegExp("pjt" + nonce + "n(\\d+)x", "g"), function (_, index) {
      return tags[Number(index)];
    });
  }

  function codeEditor(textarea, language, onChange) {
    var CM = window.PostinoCodeMirror;
    var view = new CM.EditorView({
      doc: textarea.value,
      extensions: [
        CM.lineNumbers(), CM.highlightActiveLineGutter(), CM.history(), CM.foldGutter(),
        CM.drawSelection(), CM.indentOnInput(), CM.bracketMatching(), CM.closeBrackets(),
        CM.highlightActiveLine(), CM.highlightSelectionMatches(), CM.lintGutter(),
        CM.syntaxHighlighting(CM.defaultHighlightStyle, { fallback: true }),
        CM.keymap.of([].concat(CM.closeBracketsKeymap, CM.defaultKeymap, CM.searchKeymap,
          CM.historyKeymap, CM.lintKeymap, [CM.indentWithTab])),
        language === "html" ? CM.html() : CM.markdown(),
        CM.EditorView.lineWrapping,
        CM.EditorView.updateListener.of(function (update) {
          if (update.docChanged) {
            textarea.value = update.state.doc.toString();
            onChange();
          }
        }),
      ],
    });
    textarea.hidden = true;
    textarea.insertAdjacentElement("afterend", view.dom);
    view.dom.dataset.editorFor = textarea.name;
    return {
      view: view,
      set: function (value) {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: value } });
      },
      insert: function (text) {
        view.dispatch(view.state.replaceSelection(text));
        view.focus();
      },
      mark: function (errors) {
        var doc = view.state.doc;
        var diagnostics = errors.map(function (error) {
          var line = doc.line(Math.min(Math.max(error.line || 1, 1), doc.lines));
          return { from: line.from, to: line.to, severity: "error", message: error.message };
        });
        view.dispatch(CM.setDiagnostics(view.state, diagnostics));
      },
    };
  }

  var TOOLBAR = [
    ["B", "Bold", function (c) { return c.toggleBold(); }, "bold"],
    ["I", "Italic", function (c) { return c.toggleItalic(); }, "italic"],
    ["S", "Strikethrough", function (c) { return c.toggleStrike(); }, "strike"],
    ["H1", "Heading 1", function (c) { return c.toggleHeading({ level: 1 }); }, "heading", { level: 1 }],
    ["H2", "Heading 2", function (c) { return c.toggleHeading({ level: 2 }); }, "heading", { level: 2 }],
    ["H3", "Heading 3", function (c) { return c.toggleHeading({ level: 3 }); }, "heading", { level: 3 }],
    ["• List", "Bulleted list", function (c) { return c.toggleBulletList(); }, "bulletList"],
    ["1. List", "Numbered list", function (c) { return c.toggleOrderedList(); }, "orderedList"],
    ["❝", "Quote", function (c) { return c.toggleBlockquote(); }, "blockquote"],
    ["Link", "Link", null, "link"],
    ["Image", "Image", null, null],
    ["―", "Divider", function (c) { return c.setHorizontalRule(); }, null],
    ["↶", "Undo", function (c) { return c.undo(); }, null],
    ["↷", "Redo", function (c) { return c.redo(); }, null],
  ];

  function richEditor(box, textarea, onChange) {
    var T = window.PostinoTiptap;
    var surface = box.querySelector("[data-role=rich-surface]");
    var toolbar = box.querySelector("[data-role=rich-toolbar]");
    var editor = new T.Editor({
      element: surface,
      extensions: [
        T.StarterKit.configure({ link: { openOnClick: false, autolink: true } }),
        T.Image,
      ],
      content: textarea.value,
      onUpdate: function () {
        // Written back only when the author edits here: switching to rich text
        // and back does not rewrite HTML the rich editor would simplify.
        textarea.value = editor.getHTML();
        onChange();
      },
    });
    var buttons = TOOLBAR.map(function (item) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = item[0];
      button.title = item[1];
      button.setAttribute("aria-label", item[1]);
      button.addEventListener("click", function () {
        var chain = editor.chain().focus();
        if (item[1] === "Link") {
          var current = editor.getAttributes("link").href || "";
          var href = window.prompt("Link address (a variable such as {{ webview_url }} works too)", current);
          if (href === null) return;
          chain = href ? chain.extendMarkRange("link").setLink({ href: href }) : chain.unsetLink();
        } else if (item[1] === "Image") {
          var src = window.prompt("Image address");
          if (!src) return;
          chain = chain.setImage({ src: src });
        } else {
          chain = item[2](chain);
        }
        chain.run();
      });
      toolbar.appendChild(button);
      return [button, item];
    });
    editor.on("transaction", function () {
      buttons.forEach(function (pair) {
        var item = pair[1];
        if (item[3]) pair[0].classList.toggle("is-on", editor.isActive(item[3], item[4] || {}));
      });
    });
    return {
      editor: editor,
      set: function (html) { editor.commands.setContent(html, { emitUpdate: false }); },
      insert: function (text) { editor.chain().focus().insertContent(text).run(); },
      // Whether loading this HTML here would change it (tables, styles, classes...).
      wouldChange: function (html) {
        var probe = new T.Editor({ extensions: [T.StarterKit, T.Image], content: html });
        var squash = function (value) { return value.replace(/\s+/g, " ").replace(/> </g, "><").trim(); };
        var changed = squash(probe.getHTML()) !== squash(html);
        probe.destroy();
        return changed;
      },
    };
  }

  function escapeAttribute(value) {
    return String(value).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }

  // A picked image as the mode writes it: fluid, so it never overflows a phone.
  function imageMarkup(image, mode) {
    var alt = image.alt || "";
    if (mode === "markdown") return "![" + alt.replace(/[\[\]]/g, "") + "](" + image.url + ")";
    var width = image.width ? ' width="' + Math.min(600, image.width) + '"' : "";
    return '<img src="' + escapeAttribute(image.url) + '" alt="' + escapeAttribute(alt) + '"' +
      width + ' style="max-width: 100%; height: auto;">';
  }

  function setup(root) {
    var form = root.closest("form");
    var select = form.elements.editor;
    var htmlArea = form.elements.html;
    var sourceArea = form.elements.source;
    if (!select || !htmlArea || !sourceArea || !window.PostinoCodeMirror) return;
    var changed = function () { root.dispatchEvent(new CustomEvent("postino:body-changed")); };
    var code = codeEditor(htmlArea, "html", changed);
    var markdown = codeEditor(sourceArea, "markdown", changed);
    var richBox = root.querySelector("[data-role=rich-editor]");
    var rich = window.PostinoTiptap ? richEditor(richBox, htmlArea, function () {
      code.set(htmlArea.value);
    }) : null;
    var dialog = document.querySelector("[data-role=switch-dialog]");
    var mode = select.value || "html";
    var lastFocused = code;

    [code, markdown].forEach(function (part) {
      part.view.dom.addEventListener("focusin", function () { lastFocused = part; });
    });
    if (rich) rich.editor.on("focus", function () { lastFocused = rich; });

    function show(wanted) {
      document.getElementById("field-html").hidden = wanted !== "html" && !(wanted === "rich" && !rich);
      document.getElementById("field-source").hidden = wanted !== "markdown";
      richBox.hidden = !(wanted === "rich" && rich);
      mode = wanted;
      lastFocused = wanted === "markdown" ? markdown : wanted === "rich" && rich ? rich : code;
    }

    function confirmSwitch(message) {
      return new Promise(function (resolve) {
        if (!dialog || !dialog.showModal) { resolve(window.confirm(message)); return; }
        dialog.returnValue = "";
        dialog.addEventListener("close", function done() {
          dialog.removeEventListener("close", done);
          resolve(dialog.returnValue === "convert");
        });
        dialog.showModal();
      });
    }

    function switchTo(wanted) {
      var from = mode;
      if (wanted === from) return;
      if (wanted === "markdown") {
        confirmSwitch(dialog ? dialog.querySelector("[data-role=switch-message]").textContent : "")
          .then(function (ok) {
            if (!ok) { select.value = from; return; }
            markdown.set(htmlToMarkdown(htmlArea.value));
            show(wanted);
            changed();
          });
        return;
      }
      if (from === "markdown") {
        // Exact: the HTML the server makes from the Markdown, as saving would.
        select.disabled = true;
        window.PostinoLivePreview.request().then(function (answer) {
          select.disabled = false;
          code.set(answer.body_html);
          if (rich) rich.set(answer.body_html);
          show(wanted);
          changed();
        }).catch(function () {
          select.disabled = false;
          select.value = from;
        });
        return;
      }
      if (wanted === "rich" && rich) {
        if (rich.wouldChange(htmlArea.value)) {
          var note = root.querySelector("[data-role=rich-note]");
          if (!note) {
            note = document.createElement("p");
            note.className = "help";
            note.dataset.role = "rich-note";
            note.textContent = "This HTML has layout the rich-text editor simplifies (tables, styles or classes). It is kept as it is until you edit here; use the HTML mode to keep it exactly.";
            richBox.insertAdjacentElement("beforebegin", note);
          }
        }
        rich.set(htmlArea.value);
      } else {
        code.set(htmlArea.value);
      }
      show(wanted);
    }

    select.addEventListener("change", function () { switchTo(select.value); });

    root.addEventListener("postino:template-errors", function (event) {
      var errors = event.detail.errors;
      code.mark(errors.filter(function (e) { return e.field === "html"; }));
      markdown.mark(errors.filter(function (e) { return e.field === "source"; }));
    });

    root.addEventListener("click", function (event) {
      var target = event.target.closest("[data-insert]");
      if (target) lastFocused.insert(target.dataset.insert);
      if (event.target.closest("[data-role=insert-image]") && window.PostinoMediaPicker) {
        var into = lastFocused;
        window.PostinoMediaPicker.open(function (image) {
          if (image) into.insert(imageMarkup(image, mode));
        });
      }
    });

    show(mode);
    if (mode === "rich" && rich) rich.set(htmlArea.value);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-role=campaign-editor]");
    if (root) setup(root);
  });
})();
