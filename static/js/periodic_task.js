// The admin's periodic task form (django-celery-beat's inline script, moved here for the
// Content-Security-Policy): the chosen crontab read out under its field.
(function ($) {
  const readableCrontabs = JSON.parse($("#readable-crontabs").text());
  const help = $(".field-crontab .help");
  const originalHelp = help.html();
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    help.html(`${originalHelp}<br/>Translation: ${readableCrontabs[$("#id_crontab").val()]}`);
  });
})(django.jQuery);
