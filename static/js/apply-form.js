// The application form (templates/subsidy/form.html): the certificate/student number's
// warnings, the label per type, the photo preview and size check, one submit per page.
// A file, not inline: the Content-Security-Policy allows scripts from 'self' only.
(function () {
  var form = document.getElementById("apply-form");
  var number = document.getElementById("id_study_number");
  var box = document.getElementById("number-warning");
  var text = document.getElementById("number-warning-text");
  var confirmBox = document.getElementById("id_confirm_number");
  function warnings(v) {
    var out = [];
    if (/\s/.test(v)) out.push("编号中含有空格");
    if (v.normalize && v.normalize("NFKC") !== v) out.push("编号中含有全角字符");
    if (/[a-z]/.test(v)) out.push("编号中含有小写字母，请核对大小写");
    return out;
  }
  function refresh() {
    var w = warnings(number.value);
    box.hidden = w.length === 0;
    if (w.length) text.textContent = w.join("、") + "。";
    return w;
  }
  number.addEventListener("input", refresh);
  document.querySelectorAll('input[name="kind"]').forEach(function (r) {
    r.addEventListener("change", function () {
      document.getElementById("number-label").textContent =
        r.value === "self_study" ? "毕业证书编号" : "学信网学籍学号";
    });
  });
  var photo = document.getElementById("id_card_photo");
  var preview = document.getElementById("photo-preview");
  var photoName = document.getElementById("photo-name");
  photo.addEventListener("change", function () {
    var f = photo.files && photo.files[0];
    if (f && f.size > 5 * 1024 * 1024) {
      alert("银行卡照片不能超过 5 MB，请压缩后重新上传");
      photo.value = "";
      f = null;
    }
    photoName.textContent = f ? f.name : "未选择照片";
    if (f) { preview.src = URL.createObjectURL(f); preview.hidden = false; } else { preview.hidden = true; }
  });
  var sent = false;
  form.addEventListener("submit", function (e) {
    var w = refresh();
    if (w.length && !confirmBox.checked) {
      e.preventDefault();
      box.classList.add("shake");
      box.scrollIntoView({behavior: "smooth", block: "center"});
      return;
    }
    if (sent) { e.preventDefault(); return; }
    sent = true;
    var btn = document.getElementById("btn-submit");
    btn.classList.add("weui-btn_loading");
    btn.textContent = "正在提交…";
  });
})();
