from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from imports.sheets import MAX_FILE_BYTES, SheetError, detect_format


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_("An .xlsx, .ods or .csv file of at most 5 MB, in the layout described below."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.ods,.csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(
                _("The file is larger than %(limit)s MB. Split it into smaller files."),
                params={"limit": MAX_FILE_BYTES // 1024 // 1024},
            )
        data = upload.read()
        try:
            detect_format(data, upload.name)
        except SheetError as error:
            raise ValidationError(str(error)) from None
        self.data_bytes = data
        return upload


class ConfirmForm(forms.Form):
    sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # The digest of the plan the preview showed: the confirm applies that plan or nothing.
    digest = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    accept_no_phones = forms.BooleanField(
        label=_("Import anyway: I know no phone column was recognised, so no phone number will be imported"),
        required=False,
    )
    skip_invalid = forms.BooleanField(
        label=_("Import the valid rows and give me the rows with errors as a spreadsheet"), required=False
    )
    end_missing = forms.BooleanField(
        label=_("End (as of today) the appointments that are missing from the sheet"), required=False
    )
