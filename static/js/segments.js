/* Segment builder: rows of conditions in "all"/"any" groups, kept in the
 * form's JSON field, with a live count from the server as you build.
 *
 * The page holds [data-segment-builder] (with its data as a json_script: the
 * lists, known attribute names, statuses and the errors of the last save) and
 * the definition textarea it writes to. Without JavaScript the textarea is the
 * form; with it, the textarea is hidden and stays the value that is posted.
 * Errors come back keyed by place ("conditions.2.1.value") and are shown
 * under the row they name.
 */
(function () {
  "use strict";

  var COUNT_DELAY_MS = 350;
  var numberFormat = new Intl.NumberFormat("en-US");

  var FIELDS = [
    { value: "email", label: "Email address" },
    { value: "domain", label: "Email domain" },
    { value: "name", label: "Name" },
    { value: "attribute", label: "Attribute…" },
    { value: "list", label: "List" },
    { value: "status", label: "Subscription status" },
    { value: "subscribed_at", label: "Subscribed" },
    { value: "created_at", label: "Added to Postino" },
    { value: "received", label: "Received a campaign" },
    { value: "opened", label: "Opened a campaign" },
    { value: "clicked", label: "Clicked in a campaign" },
  ];
  var TEXT_OPS = [
    ["eq", "is"], ["neq", "is not"], ["contains", "contains"], ["not_contains", "does not contain"],
    ["in", "is one of"], ["not_in", "is none of"],
  ];
  var OPS = {
    email: TEXT_OPS,
    domain: TEXT_OPS,
    name: TEXT_OPS.concat([["set", "is filled in"], ["unset", "is empty"]]),
    attribute: TEXT_OPS.concat([
      ["gt", "is more than"], ["lt", "is less than"], ["set", "is set"], ["unset", "is not set"],
    ]),
    list: [["eq", "is on"], ["neq", "is not on"]],
    status: [["eq", "is"], ["neq", "is not"]],
    subscribed_at: [["gt", "after"], ["lt", "before"]],
    created_at: [["gt", "after"], ["lt", "before"]],
    received: [["in_last_days", "in the last"], ["not_in_last_days", "nothing in the last"]],
    opened: [["in_last_days", "in the last"], ["not_in_last_days", "nothing in the last"]],
    clicked: [["in_last_days", "in the last"], ["not_in_last_days", "nothing in the last"]],
  };
  var WITHIN_DAYS = ["received", "opened", "clicked"];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function select(options, value, label) {
    var node = el("select", { "aria-label": label });
    options.forEach(function (option) {
      var item = el("option", { value: option[0], text: option[1] });
      if (String(option[0]) === String(value)) item.selected = true;
      node.appendChild(item);
    });
    return node;
  }

  function isNumeric(text) {
    return /^-?\d+(\.\d+)?$/.test(String(text).trim());
  }

  /* A condition as the builder holds it: field, key, op, value (text as typed). */
  function fromJson(raw) {
    var field = String(raw.field || "email");
    var row = { field: field, key: "", op: raw.op || "eq", value: "", mode: "date" };
    if (field.indexOf("attributes.") === 0) {
      row.field = "attribute";
      row.key = field.slice("attributes.".length);
    }
    var value = raw.value;
    if (raw.op === "set" && value === false) row.op = "unset";
    if (row.field === "list") {
      row.value = String(Array.isArray(value) ? value[0] : value);
      if (raw.status) row.status = Array.isArray(raw.status) ? raw.status[0] : raw.status;
    } else if (row.field === "status") {
      row.value = Array.isArray(value) ? value[0] : value;
    } else if (row.field === "subscribed_at" || row.field === "created_at") {
      row.mode = typeof value === "number" ? "days" : "date";
      row.value = value === undefined ? "" : String(value).slice(0, 10);
    } else if (Array.isArray(value)) {
      row.value = value.join(", ");
    } else if (value !== undefined && value !== null && typeof value !== "boolean") {
      row.value = String(value);
    } else if (typeof value === "boolean" && row.op !== "set" && row.op !== "unset") {
      row.value = value ? "true" : "false";
    }
    return row;
  }

  function toJson(row) {
    var field = row.field === "attribute" ? "attributes." + row.key.trim() : row.field;
    var out = { field: field, op: row.op };
    var text = String(row.value || "").trim();
    if (row.op === "set" || row.op === "unset") {
      out.op = "set";
      out.value = row.op === "set";
    } else if (row.field === "list") {
      out.value = text === "" ? null : Number(text);
      if (row.status) out.status = row.status;
    } else if (row.field === "status") {
      out.value = text;
    } else if (row.field === "subscribed_at" || row.field === "created_at") {
      out.value = row.mode === "days" ? (text === "" ? null : Number(text)) : text;
    } else if (WITHIN_DAYS.indexOf(row.field) !== -1) {
      out.value = text === "" ? null : Number(text);
    } else if (row.op === "in" || row.op === "not_in") {
      out.value = text.split(",").map(function (part) { return part.trim(); })
        .filter(function (part) { return part !== ""; });
    } else if (row.field === "attribute" && (row.op === "gt" || row.op === "lt") && isNumeric(text)) {
      out.value = Number(text);
    } else {
      out.value = text;
    }
    return out;
  }

  function groupFromJson(raw) {
    var group = { match: raw && raw.match === "any" ? "any" : "all", items: [] };
    ((raw && raw.conditions) || []).forEach(function (item) {
      if (item && Array.isArray(item.conditions)) group.items.push(groupFromJson(item));
      else if (item) group.items.push(fromJson(item));
    });
    return group;
  }

  function groupToJson(group) {
    return {
      match: group.match,
      conditions: group.items.map(function (item) {
        return item.items ? groupToJson(item) : toJson(item);
      }),
    };
  }

  function Builder(root, textarea, data) {
    this.root = root;
    this.textarea = textarea;
    this.data = data;
    this.countUrl = root.getAttribute("data-count-url");
    this.countNode = document.querySelector('[data-role="segment-count"]');
    this.summaryNode = document.querySelector('[data-role="segment-summary"]');
    this.timer = null;
    this.sequence = 0;
    var raw = null;
    try { raw = textarea.value.trim() ? JSON.parse(textarea.value) : null; } catch (e) { raw = null; }
    if (textarea.value.trim() && raw === null) return;  // leave hand-written JSON to the textarea
    this.group = raw ? groupFromJson(raw) : { match: "all", items: [] };
    var fresh = !this.group.items.length;
    if (fresh) this.group.items.push(fromJson({ field: "email", op: "contains" }));
    textarea.closest(".field").hidden = true;
    this.render(data.errors || []);
    // A new segment's first, empty row is not counted (nor marked) until edited.
    if (fresh) this.textarea.value = JSON.stringify(groupToJson(this.group), null, 2);
    else this.changed(false);
  }

  Builder.prototype.csrf = function () {
    var input = this.root.closest("form").querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  };

  Builder.prototype.changed = function (rerender) {
    this.textarea.value = JSON.stringify(groupToJson(this.group), null, 2);
    if (rerender) this.render([]);
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () { self.count(); }, COUNT_DELAY_MS);
  };

  Builder.prototype.count = function () {
    var self = this;
    var mine = ++this.sequence;
    if (this.countNode) this.countNode.setAttribute("aria-busy", "true");
    window.fetch(this.countUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrf() },
      body: this.textarea.value,
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (mine !== self.sequence) return;  // a later change is already being counted
      if (self.countNode) self.countNode.removeAttribute("aria-busy");
      self.showErrors(answer.ok ? [] : answer.body.errors || []);
      if (answer.ok) {
        if (self.countNode) self.countNode.textContent = numberFormat.format(answer.body.count);
        if (self.summaryNode) self.summaryNode.textContent = answer.body.summary;
      } else if (self.countNode) {
        self.countNode.textContent = "—";
        if (self.summaryNode) self.summaryNode.textContent = "Fix the marked conditions to see the count.";
      }
    }).catch(function () {
      if (mine === self.sequence && self.countNode) self.countNode.textContent = "?";
    });
  };

  Builder.prototype.showErrors = function (errors) {
    this.root.querySelectorAll(".field-errors").forEach(function (node) { node.remove(); });
    this.root.querySelectorAll(".has-error").forEach(function (node) { node.classList.remove("has-error"); });
    var self = this;
    errors.forEach(function (error) {
      var place = String(error.field || "");
      // The deepest row or group whose place starts the error's place.
      var target = null;
      self.root.querySelectorAll("[data-place]").forEach(function (node) {
        var own = node.getAttribute("data-place");
        if (place === own || place.indexOf(own + ".") === 0) {
          if (!target || own.length > target.getAttribute("data-place").length) target = node;
        }
      });
      target = target || self.root;
      target.classList.add("has-error");
      var list = target.querySelector(":scope > .field-errors");
      if (!list) {
        list = el("ul", { class: "field-errors" });
        target.appendChild(list);
      }
      list.appendChild(el("li", { text: error.message }));
    });
  };

  Builder.prototype.render = function (errors) {
    var keep = this.root.querySelector("script");
    this.root.textContent = "";
    if (keep) this.root.appendChild(keep);
    this.root.appendChild(this.renderGroup(this.group, null, "", 1));
    this.showErrors(errors);
  };

  Builder.prototype.renderGroup = function (group, parent, place, depth) {
    var self = this;
    var box = el("fieldset", { class: "segment-group", "data-place": place ? place : "conditions" });
    var match = select([["all", "all"], ["any", "any"]], group.match, "Match");
    match.addEventListener("change", function () { group.match = match.value; self.changed(false); });
    var legend = el("legend", {}, [
      document.createTextNode(parent ? "Any person matching " : "People matching "),
      match,
      document.createTextNode(" of these conditions"),
    ]);
    box.appendChild(legend);
    var rows = el("div", { class: "segment-rows" });
    group.items.forEach(function (item, index) {
      var where = (place ? place + "." : "") + "conditions." + (index + 1);
      rows.appendChild(item.items
        ? self.renderGroup(item, group, where, depth + 1)
        : self.renderRow(item, group, where));
    });
    box.appendChild(rows);
    var add = el("button", { type: "button", class: "button button-small", text: "Add condition" });
    add.addEventListener("click", function () {
      group.items.push(fromJson({ field: "email", op: "contains" }));
      self.changed(true);
    });
    var actions = el("div", { class: "actions" }, [add]);
    if (depth < 4) {
      var addGroup = el("button", { type: "button", class: "button button-small", text: "Add group" });
      addGroup.addEventListener("click", function () {
        group.items.push({ match: group.match === "all" ? "any" : "all",
          items: [fromJson({ field: "email", op: "contains" })] });
        self.changed(true);
      });
      actions.appendChild(addGroup);
    }
    if (parent) {
      var drop = el("button", { type: "button", class: "button button-small button-quiet", text: "Remove group" });
      drop.addEventListener("click", function () {
        parent.items.splice(parent.items.indexOf(group), 1);
        self.changed(true);
      });
      actions.appendChild(drop);
    }
    box.appendChild(actions);
    return box;
  };

  Builder.prototype.renderRow = function (row, group, place) {
    var self = this;
    var line = el("div", { class: "segment-row", "data-place": place });
    var field = select(FIELDS.map(function (f) { return [f.value, f.label]; }), row.field, "Field");
    field.addEventListener("change", function () {
      row.field = field.value;
      row.op = OPS[row.field][0][0];
      row.value = "";
      row.mode = "date";
      self.changed(true);
    });
    line.appendChild(field);

    if (row.field === "attribute") {
      var listId = "segment-attributes";
      if (!document.getElementById(listId)) {
        var known = el("datalist", { id: listId });
        (this.data.attributes || []).forEach(function (name) { known.appendChild(el("option", { value: name })); });
        document.body.appendChild(known);
      }
      var key = el("input", { type: "text", placeholder: "attribute name", "aria-label": "Attribute", list: listId });
      key.value = row.key;
      key.addEventListener("input", function () { row.key = key.value; self.changed(false); });
      line.appendChild(key);
    }

    var op = select(OPS[row.field], row.op, "Comparison");
    op.addEventListener("change", function () {
      var wasSet = row.op === "set" || row.op === "unset";
      row.op = op.value;
      var isSet = row.op === "set" || row.op === "unset";
      self.changed(wasSet !== isSet);
    });
    line.appendChild(op);
    line.appendChild(this.renderValue(row));

    var remove = el("button", { type: "button", class: "button button-small button-quiet", "aria-label": "Remove condition", text: "×" });
    remove.addEventListener("click", function () {
      group.items.splice(group.items.indexOf(row), 1);
      self.changed(true);
    });
    line.appendChild(remove);
    return line;
  };

  Builder.prototype.renderValue = function (row) {
    var self = this;
    var holder = el("span", { class: "segment-value" });
    function bind(input, property) {
      input.addEventListener(input.tagName === "SELECT" ? "change" : "input", function () {
        row[property || "value"] = input.value;
        self.changed(false);
      });
      holder.appendChild(input);
      return input;
    }
    if (row.op === "set" || row.op === "unset") return holder;
    if (row.field === "list") {
      var lists = (this.data.lists || []).map(function (m) { return [m.id, m.name]; });
      if (!row.value && lists.length) row.value = String(lists[0][0]);
      bind(select(lists, row.value, "List"));
      var statuses = [["", "confirmed or unconfirmed"]].concat(
        (this.data.statuses || []).map(function (s) { return [s.value, s.label.toLowerCase()]; }));
      bind(select(statuses, row.status || "", "As"), "status");
      return holder;
    }
    if (row.field === "status") {
      var options = (this.data.statuses || []).map(function (s) { return [s.value, s.label]; });
      if (!row.value && options.length) row.value = options[0][0];
      bind(select(options, row.value, "Status"));
      holder.appendChild(document.createTextNode(" on any list"));
      return holder;
    }
    if (row.field === "subscribed_at" || row.field === "created_at") {
      var mode = select([["date", "a date"], ["days", "days ago"]], row.mode, "As");
      mode.addEventListener("change", function () { row.mode = mode.value; row.value = ""; self.changed(true); });
      var when = el("input", row.mode === "days"
        ? { type: "number", min: "0", step: "1", "aria-label": "Days ago", class: "input-short" }
        : { type: "date", "aria-label": "Date" });
      when.value = row.value;
      bind(when);
      holder.appendChild(mode);
      return holder;
    }
    if (WITHIN_DAYS.indexOf(row.field) !== -1) {
      var days = el("input", { type: "number", min: "1", step: "1", "aria-label": "Days", class: "input-short" });
      days.value = row.value;
      bind(days);
      holder.appendChild(document.createTextNode(" days"));
      return holder;
    }
    var many = row.op === "in" || row.op === "not_in";
    var text = el("input", { type: "text", "aria-label": "Value",
      placeholder: many ? "values, separated by commas" : "value" });
    text.value = row.value;
    bind(text);
    return holder;
  };

  function start() {
    var root = document.querySelector("[data-segment-builder]");
    if (!root || typeof window.fetch !== "function") return;
    var textarea = document.getElementById(root.getAttribute("data-target"));
    var script = document.getElementById("segment-builder-data");
    if (!textarea || !script) return;
    new Builder(root, textarea, JSON.parse(script.textContent));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
