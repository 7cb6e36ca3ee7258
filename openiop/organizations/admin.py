from django.contrib import admin

from openiop.organizations.models import Organization, Program, Room, Site

admin.site.register(Organization)
admin.site.register(Site)
admin.site.register(Room)
admin.site.register(Program)
