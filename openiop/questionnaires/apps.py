from django.apps import AppConfig


class QuestionnairesConfig(AppConfig):
    name = "openiop.questionnaires"
    label = "questionnaires"
